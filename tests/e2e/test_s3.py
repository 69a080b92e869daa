"""S3, driven by boto3, both aws CLIs and plain HTTP: buckets with AWS's naming and
location rules, objects streamed in and out (ranges, metadata, Content-MD5, aws-chunked
uploads), listings, path-style and virtual-hosted addressing, and persistence across a
kill -9."""
import base64
import hashlib
import json
import os
import subprocess
import urllib.request

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def s3(lamina):
    return lamina.client("s3")


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]


def test_buckets_follow_aws_naming_and_location_rules(lamina, s3):
    s3.create_bucket(Bucket="photos")
    # us-east-1 answers its owner's second CreateBucket with success.
    s3.create_bucket(Bucket="photos")
    other = lamina.client("s3", key="222222222222")
    code, status, err = error_of(other.create_bucket, Bucket="photos")
    assert (code, status, err["BucketName"]) == ("BucketAlreadyExists", 409, "photos")
    assert error_of(s3.create_bucket, Bucket="Not_Valid")[:2] == ("InvalidBucketName", 400)
    europe = lamina.client("s3", region="eu-west-1")
    assert error_of(europe.create_bucket, Bucket="euro-bucket")[:2] == ("IllegalLocationConstraintException", 400)
    europe.create_bucket(Bucket="euro-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert error_of(europe.create_bucket, Bucket="euro-bucket",
                    CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})[0] == "BucketAlreadyOwnedByYou"
    assert s3.get_bucket_location(Bucket="euro-bucket")["LocationConstraint"] == "eu-west-1"
    assert s3.get_bucket_location(Bucket="photos")["LocationConstraint"] is None
    head = s3.head_bucket(Bucket="euro-bucket")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1"
    assert error_of(s3.head_bucket, Bucket="nobody-has-this")[:2] == ("404", 404)
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["euro-bucket", "photos"]
    assert [b["Name"] for b in other.list_buckets()["Buckets"]] == []
    s3.put_object(Bucket="photos", Key="a.jpg", Body=b"x")
    assert error_of(s3.delete_bucket, Bucket="photos")[:2] == ("BucketNotEmpty", 409)
    assert error_of(other.get_object, Bucket="photos", Key="a.jpg")[:2] == ("AccessDenied", 403)
    s3.delete_object(Bucket="photos", Key="a.jpg")
    s3.delete_bucket(Bucket="photos")
    code, status, err = error_of(s3.delete_bucket, Bucket="photos")
    assert (code, status, err["Message"]) == ("NoSuchBucket", 404, "The specified bucket does not exist")


def test_objects_round_trip_with_their_headers_ranges_and_digests(s3):
    s3.create_bucket(Bucket="docs")
    body = b"0123456789" * 1000
    put = s3.put_object(Bucket="docs", Key="report.txt", Body=body, ContentType="text/plain",
                        Metadata={"Author": "ada"}, CacheControl="no-cache")
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket="docs", Key="report.txt")
    assert got["Body"].read() == body
    assert (got["ContentType"], got["Metadata"], got["CacheControl"], got["ContentLength"]) == \
        ("text/plain", {"author": "ada"}, "no-cache", len(body))
    part = s3.get_object(Bucket="docs", Key="report.txt", Range="bytes=10-14")
    assert (part["Body"].read(), part["ContentRange"], part["ResponseMetadata"]["HTTPStatusCode"]) == \
        (b"01234", "bytes 10-14/10000", 206)
    assert s3.get_object(Bucket="docs", Key="report.txt", Range="bytes=-3")["Body"].read() == b"789"
    code, status, err = error_of(s3.get_object, Bucket="docs", Key="report.txt", Range="bytes=20000-")
    assert (code, status, err["ActualObjectSize"]) == ("InvalidRange", 416, "10000")
    head = s3.head_object(Bucket="docs", Key="report.txt")
    assert (head["ContentLength"], head["ETag"], head["AcceptRanges"]) == (10000, put["ETag"], "bytes")
    # A wrong Content-MD5 stores nothing.
    wrong = "1B2M2Y8AsgTpgAmY7PhCfg=="
    code, status, err = error_of(s3.put_object, Bucket="docs", Key="bad", Body=b"data", ContentMD5=wrong)
    assert (code, status, err["CalculatedDigest"]) == ("BadDigest", 400, "jXd/OF09/siBXSD3SWAm3A==")
    assert error_of(s3.head_object, Bucket="docs", Key="bad")[:2] == ("404", 404)
    assert error_of(s3.put_object, Bucket="docs", Key="bad", Body=b"data", ContentMD5="nope")[0] == "InvalidDigest"
    code, status, err = error_of(s3.put_object, Bucket="docs", Key="bad", Body=b"data", StorageClass="OUTPOSTS")
    assert (code, status, err["StorageClassRequested"]) == ("InvalidStorageClass", 400, "OUTPOSTS")
    code, _, err = error_of(s3.get_object, Bucket="docs", Key="missing")
    assert (code, err["Key"], err["Message"]) == ("NoSuchKey", "missing", "The specified key does not exist.")
    assert error_of(s3.get_object, Bucket="no-such-bucket-here", Key="k")[0] == "NoSuchBucket"
    assert error_of(s3.put_object, Bucket="docs", Key="k" * 1025, Body=b"x")[0] == "KeyTooLongError"


def test_keys_are_opaque(lamina, s3):
    s3.create_bucket(Bucket="odd")
    keys = ["../escape", "a//b", "100%", "a+b c", "ünïcødé/🚀", "trailing/", "./dot", "?q=1&x"]
    for k in keys:
        s3.put_object(Bucket="odd", Key=k, Body=k.encode())
    for k in keys:
        assert s3.get_object(Bucket="odd", Key=k)["Body"].read() == k.encode(), k
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket="odd")["Contents"]]
    assert listed == sorted(keys, key=lambda k: k.encode())
    assert not (lamina.data_dir.parent / "escape").exists()
    out = s3.delete_objects(Bucket="odd", Delete={"Objects": [{"Key": k} for k in keys[:3]] + [{"Key": "never"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == sorted(keys[:3] + ["never"])
    assert s3.list_objects_v2(Bucket="odd")["KeyCount"] == len(keys) - 3


def test_listings_fold_prefixes_and_page(s3):
    s3.create_bucket(Bucket="tree")
    keys = [f"logs/2026/{d:02}.log" for d in range(1, 8)] + ["logs/readme", "top.txt", "zeta/x"]
    for k in keys:
        s3.put_object(Bucket="tree", Key=k, Body=b"-")
    root = s3.list_objects_v2(Bucket="tree", Delimiter="/")
    assert [c["Prefix"] for c in root["CommonPrefixes"]] == ["logs/", "zeta/"]
    assert [o["Key"] for o in root["Contents"]] == ["top.txt"] and root["KeyCount"] == 3
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="tree", Prefix="logs/", PaginationConfig={"PageSize": 3})
    seen = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert seen == sorted(k for k in keys if k.startswith("logs/"))
    after = s3.list_objects_v2(Bucket="tree", StartAfter="logs/2026/05.log", MaxKeys=2)
    assert [o["Key"] for o in after["Contents"]] == ["logs/2026/06.log", "logs/2026/07.log"]
    assert after["IsTruncated"] and after["NextContinuationToken"]
    v1 = s3.list_objects(Bucket="tree", Marker="logs/readme")
    assert [o["Key"] for o in v1["Contents"]] == ["top.txt", "zeta/x"] and v1["Contents"][0]["Owner"]["ID"]
    v1_pages = s3.get_paginator("list_objects").paginate(Bucket="tree", PaginationConfig={"PageSize": 4})
    assert [o["Key"] for p in v1_pages for o in p["Contents"]] == sorted(keys)
    s3.put_object(Bucket="tree", Key="sp ace/é", Body=b"-")
    # Asked for by the caller, the encoding is left to it (boto3 decodes only what it asked for itself).
    encoded = s3.list_objects_v2(Bucket="tree", Prefix="sp", EncodingType="url")
    assert encoded["Contents"][0]["Key"] == "sp%20ace/%C3%A9"
    assert s3.list_objects_v2(Bucket="tree", Prefix="sp")["Contents"][0]["Key"] == "sp ace/é"
    # Listed times are S3's whole seconds.
    assert s3.list_objects_v2(Bucket="tree")["Contents"][0]["LastModified"].microsecond == 0
    # Buckets page by name, filtered by prefix and region.
    for name in ("tree-a", "tree-b"):
        s3.create_bucket(Bucket=name)
    first = s3.list_buckets(Prefix="tree", MaxBuckets=2)
    assert [b["Name"] for b in first["Buckets"]] == ["tree", "tree-a"] and first["Prefix"] == "tree"
    assert first["Buckets"][0]["BucketArn"] == "arn:aws:s3:::tree"
    rest = s3.list_buckets(Prefix="tree", MaxBuckets=2, ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in rest["Buckets"]] == ["tree-b"] and "ContinuationToken" not in rest
    assert s3.list_buckets(BucketRegion="eu-west-1")["Buckets"] == []
    assert error_of(s3.list_buckets, BucketRegion="eu-east-1")[2]["Message"] == \
        "Argument value eu-east-1 is not a valid AWS Region"


def test_virtual_hosted_and_path_style_requests_over_plain_http(lamina, s3):
    s3.create_bucket(Bucket="web")

    def call(method, path, host, body=None):
        req = urllib.request.Request(lamina.url + path, data=body, method=method, headers={"Host": host})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    port = lamina.port
    status, _, _ = call("PUT", "/index.html", f"web.s3.localhost:{port}", b"<h1>hi</h1>")
    assert status == 200
    assert call("GET", "/index.html", f"web.s3.us-east-1.localhost:{port}")[2] == b"<h1>hi</h1>"
    assert call("GET", "/web/index.html", f"s3.localhost:{port}")[2] == b"<h1>hi</h1>"
    assert call("GET", "/index.html", f"web.s3.localhost.localstack.cloud:{port}")[2] == b"<h1>hi</h1>"
    status, headers, body = call("GET", "/nope", f"web.s3.localhost:{port}")
    assert status == 404 and b"<Code>NoSuchKey</Code>" in body and headers["content-type"] == "application/xml"
    # S3 names a request by x-amz-request-id and x-amz-id-2, which its errors repeat.
    request_id, host_id = headers["x-amz-request-id"], headers["x-amz-id-2"]
    assert f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>".encode() in body
    status, _, body = call("GET", "/", f"web.s3.localhost:{port}")
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
                           b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">')


@pytest.mark.parametrize("cli", ["aws", "aws2"])
def test_both_aws_clis(lamina, tmp_path, cli):
    binary = "aws" if cli == "aws" else os.environ.get("AWS_CLI_V2", "aws")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
               AWS_PAGER="")

    def aws(*args):
        p = subprocess.run([binary, "--endpoint-url", lamina.url, *args], capture_output=True, text=True, env=env,
                           timeout=120)
        assert p.returncode == 0, p.stderr
        return p.stdout

    bucket = f"cli-{cli}"
    assert f"make_bucket: {bucket}" in aws("s3", "mb", f"s3://{bucket}")
    src = tmp_path / "notes.txt"
    # Past the CLIs' 8 MB threshold: a multipart upload, and ranged downloads.
    src.write_bytes(os.urandom(20 * 1024 * 1024))
    aws("s3", "cp", str(src), f"s3://{bucket}/dir/notes.txt")
    assert "notes.txt" in aws("s3", "ls", f"s3://{bucket}/dir/")
    back = tmp_path / "back.txt"
    aws("s3", "cp", f"s3://{bucket}/dir/notes.txt", str(back))
    assert back.read_bytes() == src.read_bytes()
    listed = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket))
    assert [o["Key"] for o in listed["Contents"]] == ["dir/notes.txt"]
    aws("s3", "rm", f"s3://{bucket}/dir/notes.txt")
    assert f"remove_bucket: {bucket}" in aws("s3", "rb", f"s3://{bucket}")


def test_objects_survive_a_kill_9_and_a_large_body_streams_both_ways(lamina, s3):
    s3.create_bucket(Bucket="durable")
    big = os.urandom(24 * 1024 * 1024)
    put = s3.put_object(Bucket="durable", Key="big.bin", Body=big)
    s3.put_object(Bucket="durable", Key="small", Body=b"kept")
    # 64 KiB is kept with the object's row, a byte more in a file of its own.
    edge = os.urandom(64 * 1024)
    s3.put_object(Bucket="durable", Key="edge", Body=edge)
    s3.put_object(Bucket="durable", Key="over", Body=edge + b"!")
    s3.copy_object(Bucket="durable", Key="edge-copy", CopySource={"Bucket": "durable", "Key": "edge"})
    s3.put_object(Bucket="durable", Key="small", Body=b"replaced")
    s3.put_object(Bucket="durable", Key="gone", Body=b"x")
    s3.delete_object(Bucket="durable", Key="gone")
    lamina.restart(hard=True)
    s3 = lamina.client("s3")
    got = s3.get_object(Bucket="durable", Key="big.bin")
    assert got["ETag"] == put["ETag"] and hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(big).digest()
    assert s3.get_object(Bucket="durable", Key="small")["Body"].read() == b"replaced"
    for key, body in (("edge", edge), ("over", edge + b"!"), ("edge-copy", edge)):
        got = s3.get_object(Bucket="durable", Key=key)
        assert (got["ETag"], got["Body"].read()) == (f'"{hashlib.md5(body).hexdigest()}"', body), key
    ranged = s3.get_object(Bucket="durable", Key="edge", Range="bytes=10-19")
    assert (ranged["ContentRange"], ranged["Body"].read()) == (f"bytes 10-19/{len(edge)}", edge[10:20])
    assert error_of(s3.head_object, Bucket="durable", Key="gone")[:2] == ("404", 404)
    assert os.listdir(lamina.data_dir / "s3" / "blobs" / "tmp") == []


def test_multipart_uploads_as_aws_checks_them(s3):
    s3.create_bucket(Bucket="parts")
    five = os.urandom(5 * 1024 * 1024)
    up = s3.create_multipart_upload(Bucket="parts", Key="joined.bin", ContentType="application/x-joined",
                                    Metadata={"origin": "test"})["UploadId"]
    e1 = s3.upload_part(Bucket="parts", Key="joined.bin", UploadId=up, PartNumber=1, Body=five)["ETag"]
    e2 = s3.upload_part(Bucket="parts", Key="joined.bin", UploadId=up, PartNumber=2, Body=b"tail")["ETag"]
    listed = s3.list_parts(Bucket="parts", Key="joined.bin", UploadId=up)
    assert [(p["PartNumber"], p["Size"]) for p in listed["Parts"]] == [(1, len(five)), (2, 4)]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="parts")["Uploads"]] == [up]
    parts = [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]
    assert error_of(s3.complete_multipart_upload, Bucket="parts", Key="joined.bin", UploadId=up,
                    MultipartUpload={"Parts": parts[::-1]})[0] == "InvalidPartOrder"
    code, _, err = error_of(s3.complete_multipart_upload, Bucket="parts", Key="joined.bin", UploadId=up,
                            MultipartUpload={"Parts": [parts[0], {"PartNumber": 2, "ETag": '"00"'}]})
    assert (code, err["PartNumber"]) == ("InvalidPart", "2")
    never_uploaded = [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 3, "ETag": e1}]
    assert error_of(s3.complete_multipart_upload, Bucket="parts", Key="joined.bin", UploadId=up,
                    MultipartUpload={"Parts": never_uploaded})[0] == "InvalidPart"
    done = s3.complete_multipart_upload(Bucket="parts", Key="joined.bin", UploadId=up, MultipartUpload={"Parts": parts})
    digests = bytes.fromhex(e1.strip('"')) + bytes.fromhex(e2.strip('"'))
    assert done["ETag"] == f'"{hashlib.md5(digests).hexdigest()}-2"'
    got = s3.get_object(Bucket="parts", Key="joined.bin")
    assert got["Body"].read() == five + b"tail"
    assert (got["ContentType"], got["Metadata"], got["ETag"]) == ("application/x-joined", {"origin": "test"}, done["ETag"])
    assert error_of(s3.list_parts, Bucket="parts", Key="joined.bin", UploadId=up)[0] == "NoSuchUpload"
    # A small part before the last one, and an aborted upload.
    up = s3.create_multipart_upload(Bucket="parts", Key="small")["UploadId"]
    small = [{"PartNumber": n, "ETag": s3.upload_part(Bucket="parts", Key="small", UploadId=up, PartNumber=n,
                                                      Body=b"x" * 10)["ETag"]} for n in (1, 2)]
    code, _, err = error_of(s3.complete_multipart_upload, Bucket="parts", Key="small", UploadId=up,
                            MultipartUpload={"Parts": small})
    assert (code, err["ProposedSize"], err["MinSizeAllowed"]) == ("EntityTooSmall", "10", "5242880")
    s3.abort_multipart_upload(Bucket="parts", Key="small", UploadId=up)
    assert error_of(s3.upload_part, Bucket="parts", Key="small", UploadId=up, PartNumber=1, Body=b"x")[0] == \
        "NoSuchUpload"
    assert error_of(s3.upload_part, Bucket="parts", Key="small", UploadId=up, PartNumber=10001, Body=b"x")[0] == \
        "InvalidArgument"
    assert s3.list_multipart_uploads(Bucket="parts").get("Uploads", []) == []


def test_parts_copied_from_other_objects(s3):
    s3.create_bucket(Bucket="sources")
    five = os.urandom(5 * 1024 * 1024)
    s3.put_object(Bucket="sources", Key="big", Body=five)
    s3.put_object(Bucket="sources", Key="small", Body=b"0123456789")
    up = s3.create_multipart_upload(Bucket="sources", Key="spliced")["UploadId"]
    whole = s3.upload_part_copy(Bucket="sources", Key="spliced", UploadId=up, PartNumber=1,
                                CopySource={"Bucket": "sources", "Key": "big"})["CopyPartResult"]
    assert whole["ETag"] == f'"{hashlib.md5(five).hexdigest()}"' and whole["LastModified"]
    middle = s3.upload_part_copy(Bucket="sources", Key="spliced", UploadId=up, PartNumber=2,
                                 CopySource="sources/small", CopySourceRange="bytes=2-5")["CopyPartResult"]
    assert middle["ETag"] == f'"{hashlib.md5(b"2345").hexdigest()}"'
    code, status, err = error_of(s3.upload_part_copy, Bucket="sources", Key="spliced", UploadId=up, PartNumber=3,
                                 CopySource="sources/small", CopySourceRange="bytes=5-10")
    assert (code, status, err["ActualObjectSize"]) == ("InvalidRange", 416, "10")
    assert error_of(s3.upload_part_copy, Bucket="sources", Key="spliced", UploadId=up, PartNumber=3,
                    CopySource="sources/small", CopySourceRange="5-1")[0] == "InvalidArgument"
    assert error_of(s3.upload_part_copy, Bucket="sources", Key="spliced", UploadId=up, PartNumber=3,
                    CopySource="sources/missing")[0] == "NoSuchKey"
    assert error_of(s3.upload_part_copy, Bucket="sources", Key="spliced", UploadId=up, PartNumber=3,
                    CopySource="sources/small", CopySourceIfMatch='"nope"')[:2] == ("PreconditionFailed", 412)
    parts = [{"PartNumber": 1, "ETag": whole["ETag"]}, {"PartNumber": 2, "ETag": middle["ETag"]}]
    s3.complete_multipart_upload(Bucket="sources", Key="spliced", UploadId=up, MultipartUpload={"Parts": parts})
    assert s3.get_object(Bucket="sources", Key="spliced")["Body"].read() == five + b"2345"


def test_managed_transfers_of_large_files(lamina, s3, tmp_path):
    from boto3.s3.transfer import TransferConfig
    s3.create_bucket(Bucket="transfers")
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        for _ in range(24):
            f.write(os.urandom(1024 * 1024))
    config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_file(str(src), "transfers", "big.bin", Config=config)
    assert s3.head_object(Bucket="transfers", Key="big.bin")["ETag"].endswith('-5"')
    back = tmp_path / "back.bin"
    s3.download_file("transfers", "big.bin", str(back), Config=config)
    assert back.read_bytes() == src.read_bytes()


def test_a_1_gib_file_goes_up_with_the_cli_and_comes_back_with_boto3_and_sync(lamina, s3, tmp_path):
    s3.create_bucket(Bucket="huge")
    src = tmp_path / "up" / "huge.bin"
    src.parent.mkdir()
    digest = hashlib.sha256()
    with open(src, "wb") as f:
        block = os.urandom(1024 * 1024)
        for i in range(1024):
            chunk = block[i:] + block[:i]
            digest.update(chunk)
            f.write(chunk)
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    cli2 = os.environ.get("AWS_CLI_V2", "aws")
    p = subprocess.run([cli2, "--endpoint-url", lamina.url, "s3", "cp", str(src), "s3://huge/huge.bin"],
                       capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr
    assert s3.head_object(Bucket="huge", Key="huge.bin")["ContentLength"] == 1024 * 1024 * 1024
    back = tmp_path / "back.bin"
    s3.download_file("huge", "huge.bin", str(back))

    def sha(path):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(4 * 1024 * 1024):
                h.update(block)
        return h.digest()

    assert sha(back) == digest.digest()
    back.unlink()
    down = tmp_path / "down"
    p = subprocess.run(["aws", "--endpoint-url", lamina.url, "s3", "sync", "s3://huge", str(down)],
                       capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr
    assert sha(down / "huge.bin") == digest.digest()


def test_functions_and_layers_are_created_from_s3(lamina, s3):
    from conftest import ROLE, function_zip, invoke_json, wait_updated
    lam = lamina.client()
    s3.create_bucket(Bucket="deploys")
    s3.put_object(Bucket="deploys", Key="app/v1.zip", Body=function_zip("app.py"))
    lam.create_function(FunctionName="from-s3", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"S3Bucket": "deploys", "S3Key": "app/v1.zip"})
    lam.get_waiter("function_active_v2").wait(FunctionName="from-s3")
    _, out = invoke_json(lam, "from-s3", {"action": "echo", "value": 1})
    assert out is not None
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.update_function_code(FunctionName="from-s3", S3Bucket="deploys", S3Key="app/missing.zip")
    assert e.value.response["Error"]["Message"] == (
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.")
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.create_function(FunctionName="nowhere", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                            Code={"S3Bucket": "no-such-deploys", "S3Key": "x.zip"})
    assert e.value.response["Error"]["Message"] == (
        "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist")
    s3.put_object(Bucket="deploys", Key="app/v2.zip", Body=function_zip("app.py", extra="v2"))
    lam.update_function_code(FunctionName="from-s3", S3Bucket="deploys", S3Key="app/v2.zip")
    wait_updated(lam, "from-s3")
    sha = lam.get_function(FunctionName="from-s3")["Configuration"]["CodeSha256"]
    expected = base64.b64encode(hashlib.sha256(function_zip("app.py", extra="v2")).digest()).decode()
    assert sha == expected
    s3.put_object(Bucket="deploys", Key="layer.zip", Body=function_zip("app.py"))
    layer = lam.publish_layer_version(LayerName="from-s3", Content={"S3Bucket": "deploys", "S3Key": "layer.zip"})
    assert layer["Version"] == 1 and layer["Content"]["CodeSize"] > 0


def test_conditional_requests_and_copies(s3):
    import datetime
    s3.create_bucket(Bucket="cond")
    etag = s3.put_object(Bucket="cond", Key="k", Body=b"v1", Metadata={"m": "1"}, ContentType="text/x-one")["ETag"]
    assert s3.get_object(Bucket="cond", Key="k", IfMatch=etag)["Body"].read() == b"v1"
    code, status, err = error_of(s3.get_object, Bucket="cond", Key="k", IfMatch='"0000"')
    assert (code, status, err["Condition"]) == ("PreconditionFailed", 412, "If-Match")
    assert error_of(s3.get_object, Bucket="cond", Key="k", IfNoneMatch=etag)[:2] == ("304", 304)
    assert error_of(s3.head_object, Bucket="cond", Key="k", IfNoneMatch=etag)[:2] == ("304", 304)
    now = datetime.datetime.now(datetime.timezone.utc)
    later = now + datetime.timedelta(hours=1)
    earlier = now - datetime.timedelta(hours=1)
    assert error_of(s3.get_object, Bucket="cond", Key="k", IfModifiedSince=now)[:2] == ("304", 304)
    # A date still to come is no date at all (HTTP's rule, and S3's).
    assert s3.get_object(Bucket="cond", Key="k", IfModifiedSince=later)["Body"].read() == b"v1"
    assert s3.get_object(Bucket="cond", Key="k", IfModifiedSince=earlier)["Body"].read() == b"v1"
    assert error_of(s3.get_object, Bucket="cond", Key="k", IfUnmodifiedSince=earlier)[:2] == ("PreconditionFailed", 412)
    # A write that must not replace anything, and one that must replace what it read.
    code, status, err = error_of(s3.put_object, Bucket="cond", Key="k", Body=b"v2", IfNoneMatch="*")
    assert (code, status, err["Condition"]) == ("PreconditionFailed", 412, "If-None-Match")
    s3.put_object(Bucket="cond", Key="fresh", Body=b"new", IfNoneMatch="*")
    assert error_of(s3.put_object, Bucket="cond", Key="k", Body=b"v2", IfMatch='"0000"')[:2] == \
        ("PreconditionFailed", 412)
    s3.put_object(Bucket="cond", Key="k", Body=b"v2", IfMatch=etag, Metadata={"m": "2"}, ContentType="text/x-two")
    assert s3.get_object(Bucket="cond", Key="k")["Body"].read() == b"v2"
    # Copies: the metadata copied, or replaced; never onto itself unchanged.
    copied = s3.copy_object(Bucket="cond", Key="copy", CopySource={"Bucket": "cond", "Key": "k"})
    got = s3.get_object(Bucket="cond", Key="copy")
    assert (got["Body"].read(), got["Metadata"], got["ContentType"]) == (b"v2", {"m": "2"}, "text/x-two")
    assert copied["CopyObjectResult"]["ETag"] == got["ETag"]
    s3.copy_object(Bucket="cond", Key="copy", CopySource="cond/k", MetadataDirective="REPLACE",
                   Metadata={"m": "3"}, ContentType="text/x-three")
    head = s3.head_object(Bucket="cond", Key="copy")
    assert (head["Metadata"], head["ContentType"]) == ({"m": "3"}, "text/x-three")
    code, status, err = error_of(s3.copy_object, Bucket="cond", Key="k", CopySource="cond/k")
    assert (code, status, err["Message"]) == ("InvalidRequest", 400, (
        "This copy request is illegal because it is trying to copy an object to itself without changing the "
        "object's metadata, storage class, website redirect location or encryption attributes."))
    assert error_of(s3.copy_object, Bucket="cond", Key="x", CopySource="cond/none")[:2] == ("NoSuchKey", 404)
    code, status, err = error_of(s3.copy_object, Bucket="cond", Key="x", CopySource="cond/k",
                                 CopySourceIfMatch='"0000"')
    assert (code, status, err["Condition"]) == ("PreconditionFailed", 412, "x-amz-copy-source-If-Match")
    # The source going does not take the copy's bytes with it.
    s3.delete_object(Bucket="cond", Key="k")
    assert s3.get_object(Bucket="cond", Key="copy")["Body"].read() == b"v2"
    # Copies and completions write only if the destination's conditions hold.
    s3.put_object(Bucket="cond", Key="src", Body=b"src")
    code, status, err = error_of(s3.copy_object, Bucket="cond", Key="copy", CopySource="cond/src", IfNoneMatch="*")
    assert (code, status, err["Condition"]) == ("PreconditionFailed", 412, "If-None-Match")
    up = s3.create_multipart_upload(Bucket="cond", Key="copy")["UploadId"]
    part = s3.upload_part(Bucket="cond", Key="copy", UploadId=up, PartNumber=1, Body=b"parted")["ETag"]
    done = {"Parts": [{"PartNumber": 1, "ETag": part}]}
    assert error_of(s3.complete_multipart_upload, Bucket="cond", Key="copy", UploadId=up, MultipartUpload=done,
                    IfMatch='"0000"')[:2] == ("PreconditionFailed", 412)
    current = s3.head_object(Bucket="cond", Key="copy")["ETag"]
    s3.complete_multipart_upload(Bucket="cond", Key="copy", UploadId=up, MultipartUpload=done, IfMatch=current)
    assert s3.get_object(Bucket="cond", Key="copy")["Body"].read() == b"parted"


def test_presigned_urls_work_over_plain_http_until_they_expire(lamina, s3):
    import datetime
    from unittest import mock
    from botocore.config import Config
    s3.create_bucket(Bucket="shared")
    s3.put_object(Bucket="shared", Key="doc.txt", Body=b"for your eyes")

    def fetch(url, method="GET", body=None):
        req = urllib.request.Request(url, data=body, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    url = s3.generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "doc.txt"}, ExpiresIn=300)
    assert fetch(url) == (200, b"for your eyes")
    put = s3.generate_presigned_url("put_object", Params={"Bucket": "shared", "Key": "up.txt"}, ExpiresIn=300)
    assert fetch(put, "PUT", b"uploaded")[0] == 200
    assert s3.get_object(Bucket="shared", Key="up.txt")["Body"].read() == b"uploaded"
    import boto3
    legacy = boto3.client("s3", endpoint_url=lamina.url, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test", config=Config(signature_version="s3"))
    v2 = legacy.generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "doc.txt"}, ExpiresIn=300)
    assert "AWSAccessKeyId=" in v2 and fetch(v2) == (200, b"for your eyes")
    v4 = boto3.client("s3", endpoint_url=lamina.url, region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test", config=Config(signature_version="s3v4"))
    fresh = v4.generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "doc.txt"}, ExpiresIn=300)
    assert "X-Amz-Credential=" in fresh and fetch(fresh) == (200, b"for your eyes")
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
    with mock.patch("botocore.auth.get_current_datetime", return_value=past.replace(tzinfo=None)):
        stale = v4.generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "doc.txt"}, ExpiresIn=60)
    status, body = fetch(stale)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body and b"<Message>Request has expired</Message>" in body
    assert b"<X-Amz-Expires>60</X-Amz-Expires>" in body
    with mock.patch("time.time", return_value=past.timestamp()):
        stale_v2 = legacy.generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "doc.txt"},
                                                 ExpiresIn=60)
    status, body = fetch(stale_v2)
    assert status == 403 and b"<Message>Request has expired</Message>" in body


def test_bucket_and_object_tags(s3):
    s3.create_bucket(Bucket="tagged")
    code, status, err = error_of(s3.get_bucket_tagging, Bucket="tagged")
    assert (code, status, err["Message"]) == ("NoSuchTagSet", 404, "The TagSet does not exist")
    s3.put_bucket_tagging(Bucket="tagged", Tagging={"TagSet": [{"Key": "team", "Value": "data"}]})
    assert s3.get_bucket_tagging(Bucket="tagged")["TagSet"] == [{"Key": "team", "Value": "data"}]
    s3.delete_bucket_tagging(Bucket="tagged")
    assert error_of(s3.get_bucket_tagging, Bucket="tagged")[0] == "NoSuchTagSet"
    s3.put_object(Bucket="tagged", Key="o", Body=b"x", Tagging="a=1&b=two%20words")
    assert s3.get_object_tagging(Bucket="tagged", Key="o")["TagSet"] == \
        [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two words"}]
    assert s3.head_object(Bucket="tagged", Key="o")["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    s3.put_object_tagging(Bucket="tagged", Key="o", Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
    assert s3.get_object_tagging(Bucket="tagged", Key="o")["TagSet"] == [{"Key": "c", "Value": "3"}]
    s3.copy_object(Bucket="tagged", Key="copy", CopySource="tagged/o", MetadataDirective="REPLACE")
    assert s3.get_object_tagging(Bucket="tagged", Key="copy")["TagSet"] == [{"Key": "c", "Value": "3"}]
    s3.delete_object_tagging(Bucket="tagged", Key="o")
    assert s3.get_object_tagging(Bucket="tagged", Key="o")["TagSet"] == []
    too_many = {"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]}
    code, _, err = error_of(s3.put_object_tagging, Bucket="tagged", Key="o", Tagging=too_many)
    assert (code, err["Message"]) == ("BadRequest", "Object tags cannot be greater than 10")
    dup = {"TagSet": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]}
    assert error_of(s3.put_object_tagging, Bucket="tagged", Key="o", Tagging=dup)[0] == "InvalidTag"
    assert error_of(s3.put_object, Bucket="tagged", Key="p", Body=b"x", Tagging="aws:x=1")[0] == "InvalidTag"
    assert error_of(s3.get_object_tagging, Bucket="tagged", Key="none")[0] == "NoSuchKey"


def test_versioning_keeps_every_version_and_deletes_with_markers(s3):
    s3.create_bucket(Bucket="history")
    assert "Status" not in s3.get_bucket_versioning(Bucket="history")
    s3.put_object(Bucket="history", Key="doc", Body=b"before")
    s3.put_bucket_versioning(Bucket="history", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="history")["Status"] == "Enabled"
    v1 = s3.put_object(Bucket="history", Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="history", Key="doc", Body=b"two")["VersionId"]
    assert len({v1, v2}) == 2 and all(len(v) == 32 for v in (v1, v2))
    assert s3.get_object(Bucket="history", Key="doc")["Body"].read() == b"two"
    assert s3.get_object(Bucket="history", Key="doc", VersionId=v1)["Body"].read() == b"one"
    assert s3.get_object(Bucket="history", Key="doc", VersionId="null")["Body"].read() == b"before"
    gone = s3.delete_object(Bucket="history", Key="doc")
    assert gone["DeleteMarker"] is True and gone["VersionId"]
    code, status, _ = error_of(s3.get_object, Bucket="history", Key="doc")
    assert (code, status) == ("NoSuchKey", 404)
    assert s3.list_objects_v2(Bucket="history")["KeyCount"] == 0
    listed = s3.list_object_versions(Bucket="history")
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [(v2, False), (v1, False), ("null", False)]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(gone["VersionId"], True)]
    assert error_of(s3.get_object, Bucket="history", Key="doc", VersionId=gone["VersionId"])[:2] == \
        ("MethodNotAllowed", 405)
    # Deleting the marker brings the object back; deleting a version removes it for good.
    s3.delete_object(Bucket="history", Key="doc", VersionId=gone["VersionId"])
    assert s3.get_object(Bucket="history", Key="doc")["Body"].read() == b"two"
    s3.delete_object(Bucket="history", Key="doc", VersionId=v2)
    assert s3.get_object(Bucket="history", Key="doc")["Body"].read() == b"one"
    assert error_of(s3.get_object, Bucket="history", Key="doc", VersionId=v2)[0] == "NoSuchVersion"
    page = s3.list_object_versions(Bucket="history", MaxKeys=1)
    assert page["IsTruncated"] and page["NextVersionIdMarker"] == v1
    rest = s3.list_object_versions(Bucket="history", KeyMarker=page["NextKeyMarker"],
                                   VersionIdMarker=page["NextVersionIdMarker"])
    assert [v["VersionId"] for v in rest["Versions"]] == ["null"]
    # Suspended: writes make the null version again.
    s3.put_bucket_versioning(Bucket="history", VersioningConfiguration={"Status": "Suspended"})
    # The null version goes unnamed in the answer, as on AWS.
    assert "VersionId" not in s3.put_object(Bucket="history", Key="doc", Body=b"suspended")
    versions = s3.list_object_versions(Bucket="history")["Versions"]
    assert sorted(v["VersionId"] for v in versions) == sorted([v1, "null"])
    out = s3.delete_objects(Bucket="history", Delete={"Objects": [{"Key": "doc", "VersionId": v1}]})
    assert out["Deleted"] == [{"Key": "doc", "VersionId": v1}]
    assert error_of(s3.put_bucket_versioning, Bucket="history",
                    VersioningConfiguration={"Status": "Sometimes"})[0] == "MalformedXML"


def test_crc32_checksums_are_checked_and_kept(s3):
    import zlib
    s3.create_bucket(Bucket="sums")
    body = b"checked bytes"
    want = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    put = s3.put_object(Bucket="sums", Key="k", Body=body, ChecksumAlgorithm="CRC32")
    assert (put["ChecksumCRC32"], put["ChecksumType"]) == (want, "FULL_OBJECT")
    listed = s3.list_objects_v2(Bucket="sums")["Contents"][0]
    assert (listed["ChecksumAlgorithm"], listed["ChecksumType"]) == (["CRC32"], "FULL_OBJECT")
    code, status, err = error_of(s3.put_object, Bucket="sums", Key="bad", Body=body, ChecksumCRC32="AAAAAA==")
    assert (code, status, err["Message"]) == ("BadDigest", 400,
                                              "The CRC32 you specified did not match the calculated checksum.")
    assert error_of(s3.head_object, Bucket="sums", Key="bad")[:2] == ("404", 404)


def test_every_flexible_checksum_in_headers_trailers_and_multipart(lamina, s3):
    s3.create_bucket(Bucket="sums2")
    body = b"hello world"
    # S3's values of "hello world", as the SDKs compute them.
    values = {"CRC32": "DUoRhQ==", "CRC32C": "yZRlqg==", "CRC64NVME": "jSnVw/bqjr4=",
              "SHA1": "Kq5sNclPz7QV2+lfQIuc6R7oRu0=", "SHA256": "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="}
    for algorithm, value in values.items():
        # botocore computes the CRCs beyond CRC32 only with awscrt; given, they go as headers.
        given = {"ChecksumAlgorithm": algorithm} if algorithm in ("CRC32", "SHA1", "SHA256") else \
            {f"Checksum{algorithm}": value}
        put = s3.put_object(Bucket="sums2", Key=algorithm, Body=body, **given)
        assert put[f"Checksum{algorithm}"] == value, algorithm
        got = s3.head_object(Bucket="sums2", Key=algorithm, ChecksumMode="ENABLED")
        assert (got[f"Checksum{algorithm}"], got["ChecksumType"]) == (value, "FULL_OBJECT")
        assert f"Checksum{algorithm}" not in s3.head_object(Bucket="sums2", Key=algorithm)
        wrong = error_of(s3.put_object, Bucket="sums2", Key="wrong", Body=b"other", **{f"Checksum{algorithm}": value})
        assert wrong[:2] == ("BadDigest", 400), algorithm
    # A checksum in an aws-chunked trailer, as SDKs send over HTTPS, checked as the body ends.
    port = lamina.port
    for trailer, expect in ((values["SHA256"], 200), ("AAAA" + values["SHA256"][4:], 400)):
        chunked = b"b\r\nhello world\r\n0\r\nx-amz-checksum-sha256:" + trailer.encode() + b"\r\n\r\n"
        status, _, _ = lamina.http("PUT", "/sums2/trailed", chunked, headers={
            "Host": f"s3.localhost:{port}", "Content-Encoding": "aws-chunked",
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-decoded-content-length": "11",
            "x-amz-trailer": "x-amz-checksum-sha256"})
        assert status == expect
    got = s3.get_object(Bucket="sums2", Key="trailed", ChecksumMode="ENABLED")
    assert (got["Body"].read(), got["ChecksumSHA256"]) == (body, values["SHA256"])
    # Multipart: SHA-256 parts make a composite checksum; asked for, CRC32 keeps the
    # whole object's.
    five = os.urandom(5 * 1024 * 1024)
    for algorithm, kind in (("SHA256", "COMPOSITE"), ("CRC32", "FULL_OBJECT")):
        key = f"parts-{algorithm}"
        up = s3.create_multipart_upload(Bucket="sums2", Key=key, ChecksumAlgorithm=algorithm, ChecksumType=kind)
        assert (up["ChecksumAlgorithm"], up["ChecksumType"]) == (algorithm, kind)
        parts = []
        for n, data in ((1, five), (2, b"tail")):
            part = s3.upload_part(Bucket="sums2", Key=key, UploadId=up["UploadId"], PartNumber=n, Body=data,
                                  ChecksumAlgorithm=algorithm)
            parts.append({"PartNumber": n, "ETag": part["ETag"], f"Checksum{algorithm}": part[f"Checksum{algorithm}"]})
        listed = s3.list_parts(Bucket="sums2", Key=key, UploadId=up["UploadId"])["Parts"]
        assert [p[f"Checksum{algorithm}"] for p in listed] == [p[f"Checksum{algorithm}"] for p in parts]
        done = s3.complete_multipart_upload(Bucket="sums2", Key=key, UploadId=up["UploadId"],
                                            MultipartUpload={"Parts": parts})
        assert done["ChecksumType"] == kind
        if kind == "COMPOSITE":
            raw = b"".join(base64.b64decode(p[f"Checksum{algorithm}"]) for p in parts)
            assert done["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(raw).digest()).decode() + "-2"
            attrs = s3.get_object_attributes(Bucket="sums2", Key=key,
                                             ObjectAttributes=["ETag", "Checksum", "ObjectParts", "ObjectSize"])
            assert (attrs["ETag"], attrs["ObjectSize"]) == (done["ETag"].strip('"'), len(five) + 4)
            assert attrs["Checksum"] == {"ChecksumSHA256": done["ChecksumSHA256"][:-2], "ChecksumType": "COMPOSITE"}
            assert attrs["ObjectParts"]["TotalPartsCount"] == 2
            assert [p["Size"] for p in attrs["ObjectParts"]["Parts"]] == [len(five), 4]
            second = s3.get_object(Bucket="sums2", Key=key, PartNumber=2, ChecksumMode="ENABLED")
            assert (second["Body"].read(), second["PartsCount"], second["ChecksumSHA256"]) == \
                (b"tail", 2, parts[1]["ChecksumSHA256"])
            # A completion must name each part's checksum, as it was uploaded.
            again = s3.create_multipart_upload(Bucket="sums2", Key="again", ChecksumAlgorithm=algorithm)["UploadId"]
            etag = s3.upload_part(Bucket="sums2", Key="again", UploadId=again, PartNumber=1, Body=b"x",
                                  ChecksumAlgorithm=algorithm)["ETag"]
            code, _, err = error_of(s3.complete_multipart_upload, Bucket="sums2", Key="again", UploadId=again,
                                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
            assert (code, err["Message"]) == ("InvalidRequest", "The upload was created using a sha256 checksum. The "
                                              "complete request must include the checksum for each part. It was "
                                              "missing for part 1 in the request.")
        else:
            import zlib
            assert done["ChecksumCRC32"] == base64.b64encode(zlib.crc32(five + b"tail").to_bytes(4, "big")).decode()
    # Parts must use their upload's algorithm.
    up = s3.create_multipart_upload(Bucket="sums2", Key="mismatch", ChecksumAlgorithm="SHA1")["UploadId"]
    code, status, err = error_of(s3.upload_part, Bucket="sums2", Key="mismatch", UploadId=up, PartNumber=1,
                                 Body=b"x", ChecksumAlgorithm="CRC32")
    assert (code, status, err["Message"]) == (
        "InvalidRequest", 400, "Checksum Type mismatch occurred, expected checksum Type: sha1, actual checksum Type: crc32")
    # A copy computes the checksum it is asked for.
    copied = s3.copy_object(Bucket="sums2", Key="copied", CopySource="sums2/SHA1", ChecksumAlgorithm="CRC32C")
    assert copied["CopyObjectResult"]["ChecksumCRC32C"] == values["CRC32C"]


def test_functions_reach_s3_through_their_endpoint(lamina, s3):
    from conftest import create, zip_bytes
    s3.create_bucket(Bucket="inside")
    s3.put_object(Bucket="inside", Key="in.txt", Body=b"from outside")
    code = zip_bytes({"s3fn.py": "import boto3\n\ndef handler(event, context):\n"
                                 "    s3 = boto3.client('s3')\n"
                                 "    body = s3.get_object(Bucket='inside', Key='in.txt')['Body'].read().decode()\n"
                                 "    s3.put_object(Bucket='inside', Key='out.txt', Body=body.upper())\n"
                                 "    return body\n"})
    lam = lamina.client()
    create(lam, "s3fn", handler="s3fn.handler", code=code, Timeout=30)
    assert json.loads(lam.invoke(FunctionName="s3fn")["Payload"].read()) == "from outside"
    assert s3.get_object(Bucket="inside", Key="out.txt")["Body"].read() == b"FROM OUTSIDE"


def test_bucket_settings_answer_as_aws_does(s3):
    s3.create_bucket(Bucket="configured")
    # What every new bucket has.
    assert s3.get_bucket_encryption(Bucket="configured")["ServerSideEncryptionConfiguration"]["Rules"] == [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]
    assert all(s3.get_public_access_block(Bucket="configured")["PublicAccessBlockConfiguration"].values())
    assert s3.get_bucket_ownership_controls(Bucket="configured")["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}]
    assert s3.get_bucket_request_payment(Bucket="configured")["Payer"] == "BucketOwner"
    # Missing settings are AWS's errors, with the bucket named.
    for call, code in [(s3.get_bucket_cors, "NoSuchCORSConfiguration"), (s3.get_bucket_policy, "NoSuchBucketPolicy"),
                       (s3.get_bucket_lifecycle_configuration, "NoSuchLifecycleConfiguration"),
                       (s3.get_bucket_website, "NoSuchWebsiteConfiguration"),
                       (s3.get_bucket_replication, "ReplicationConfigurationNotFoundError")]:
        c, status, err = error_of(call, Bucket="configured")
        assert (c, status, err["BucketName"]) == (code, 404, "configured")
    # ACLs are off until ownership controls let them in.
    c, status, _ = error_of(s3.put_object, Bucket="configured", Key="public", Body=b"x", ACL="public-read")
    assert (c, status) == ("AccessControlListNotSupported", 400)
    s3.put_object(Bucket="configured", Key="owned", Body=b"x", ACL="bucket-owner-full-control")
    s3.put_bucket_ownership_controls(Bucket="configured",
                                     OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.delete_public_access_block(Bucket="configured")
    assert error_of(s3.get_public_access_block, Bucket="configured")[0] == "NoSuchPublicAccessBlockConfiguration"
    s3.put_object(Bucket="configured", Key="public", Body=b"x", ACL="public-read")
    grants = s3.get_object_acl(Bucket="configured", Key="public")["Grants"]
    assert [(g["Grantee"]["Type"], g["Permission"]) for g in grants] == [("CanonicalUser", "FULL_CONTROL"), ("Group", "READ")]
    assert grants[1]["Grantee"]["URI"] == "http://acs.amazonaws.com/groups/global/AllUsers"
    s3.put_bucket_acl(Bucket="configured", ACL="public-read")
    assert len(s3.get_bucket_acl(Bucket="configured")["Grants"]) == 2
    # Documents come back as they were given, and go.
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::configured/*"}]})
    s3.put_bucket_policy(Bucket="configured", Policy=policy)
    assert json.loads(s3.get_bucket_policy(Bucket="configured")["Policy"]) == json.loads(policy)
    assert error_of(s3.put_bucket_policy, Bucket="configured", Policy="{not json")[0] == "MalformedPolicy"
    rules = [{"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}]
    s3.put_bucket_lifecycle_configuration(Bucket="configured", LifecycleConfiguration={"Rules": rules})
    assert s3.get_bucket_lifecycle_configuration(Bucket="configured")["Rules"] == rules
    s3.delete_bucket_lifecycle(Bucket="configured")
    assert error_of(s3.get_bucket_lifecycle_configuration, Bucket="configured")[0] == "NoSuchLifecycleConfiguration"
    s3.put_bucket_encryption(Bucket="configured", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    assert s3.get_bucket_encryption(Bucket="configured")["ServerSideEncryptionConfiguration"]["Rules"][0][
        "ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    wrong = error_of(s3.put_bucket_encryption, Bucket="configured", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "key"}}]})
    assert (wrong[0], wrong[2]["ArgumentName"]) == ("InvalidArgument", "ApplyServerSideEncryptionByDefault")
    code, _, err = error_of(s3.put_bucket_tagging, Bucket="configured", Tagging={"TagSet": [{"Key": "aws:x", "Value": "1"}]})
    assert (code, err["Message"], err["TagKey"]) == ("InvalidTag", "System tags cannot be added/updated by requester", "aws:x")
    s3.create_bucket(Bucket="writer-owned", ObjectOwnership="ObjectWriter")
    assert s3.get_bucket_ownership_controls(Bucket="writer-owned")["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}]
    bad_cors = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}
    code, _, err = error_of(s3.put_bucket_cors, Bucket="configured", CORSConfiguration=bad_cors)
    assert (code, err["Message"]) == ("InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is PATCH")


def test_cors_preflights_and_allowed_origins(lamina, s3):
    s3.create_bucket(Bucket="site")
    s3.put_object(Bucket="site", Key="app.js", Body=b"js")
    port = lamina.port

    def call(method, headers):
        req = urllib.request.Request(f"{lamina.url}/app.js", method=method,
                                     headers={"Host": f"site.s3.localhost:{port}", **headers})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    asking = {"Origin": "https://app.example", "Access-Control-Request-Method": "PUT",
              "Access-Control-Request-Headers": "Content-Type, X-Amz-Date"}
    status, _, body = call("OPTIONS", asking)
    assert status == 403 and b"CORSResponse: CORS is not enabled for this bucket." in body
    s3.put_bucket_cors(Bucket="site", CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://*.example"], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"],
         "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600},
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})
    status, headers, _ = call("OPTIONS", asking)
    assert status == 200
    assert (headers["Access-Control-Allow-Origin"], headers["Access-Control-Allow-Methods"]) == \
        ("https://app.example", "GET, PUT")
    assert (headers["Access-Control-Allow-Headers"], headers["Access-Control-Max-Age"]) == ("content-type, x-amz-date", "600")
    assert (headers["Access-Control-Expose-Headers"], headers["Access-Control-Allow-Credentials"]) == ("ETag", "true")
    status, _, body = call("OPTIONS", {"Origin": "https://elsewhere.org", "Access-Control-Request-Method": "PUT"})
    assert status == 403 and b"<Method>PUT</Method><ResourceType>OBJECT</ResourceType>" in body
    assert call("OPTIONS", {})[0] == 400
    status, headers, body = call("GET", {"Origin": "https://elsewhere.org"})
    assert (status, body, headers["Access-Control-Allow-Origin"]) == (200, b"js", "*")
    assert "Access-Control-Allow-Credentials" not in headers
    s3.delete_bucket_cors(Bucket="site")
    assert "Access-Control-Allow-Origin" not in call("GET", {"Origin": "https://elsewhere.org"})[1]


def test_bad_input_gets_awss_errors_and_stores_nothing(lamina, s3):
    import socket
    s3.create_bucket(Bucket="strict-input")
    host = f"s3.localhost:{lamina.port}"

    def raw(head, body, close_early=True):
        """Sends a request by hand; with close_early, stops writing after `body` and
        half-closes, as a client that died mid-upload does. Returns the answer's bytes."""
        with socket.create_connection(("127.0.0.1", lamina.port), timeout=30) as c:
            c.sendall(head + body)
            if close_early:
                c.shutdown(socket.SHUT_WR)
            out = b""
            while chunk := c.recv(65536):
                out += chunk
            return out

    # A Content-Length larger than the body that came.
    answer = raw(f"PUT /strict-input/short HTTP/1.1\r\nHost: {host}\r\nContent-Length: 100\r\n\r\n".encode(), b"x" * 10)
    assert b"200 OK" not in answer.split(b"\r\n")[0]
    # An aws-chunked body cut off mid-chunk, and one that never sends its last chunk.
    chunked = (f"PUT /strict-input/{{key}} HTTP/1.1\r\nHost: {host}\r\nContent-Encoding: aws-chunked\r\n"
               "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nx-amz-decoded-content-length: 64\r\n"
               "Transfer-Encoding: chunked\r\n\r\n")

    def http_chunk(data):
        return f"{len(data):x}\r\n".encode() + data + b"\r\n"

    cut = raw(chunked.format(key="cut").encode(), http_chunk(b"40\r\n" + b"y" * 20))
    assert b"200 OK" not in cut.split(b"\r\n")[0]
    unended = raw(chunked.format(key="unended").encode(), http_chunk(b"40\r\n" + b"y" * 64 + b"\r\n") + b"0\r\n\r\n",
                  close_early=False)
    assert b"200 OK" not in unended.split(b"\r\n")[0]
    for key in ("short", "cut", "unended"):
        assert error_of(s3.head_object, Bucket="strict-input", Key=key)[:2] == ("404", 404), key
    # Malformed XML, and XML that is not what the operation takes.
    for body in (b"<Delete><Object><Key>a</Key>", b"<<<not xml", b"<Delete>" + b"<a>" * 10000 + b"</Delete>"):
        status, _, text = lamina.http("POST", "/strict-input?delete", body,
                                      headers={"Host": host, "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()})
        assert status == 400 and b"<Code>MalformedXML</Code>" in text, (body[:20], text)
    assert s3.list_objects_v2(Bucket="strict-input")["KeyCount"] == 0
    # The server is still up and answering.
    s3.put_object(Bucket="strict-input", Key="fine", Body=b"ok")
    assert s3.get_object(Bucket="strict-input", Key="fine")["Body"].read() == b"ok"
