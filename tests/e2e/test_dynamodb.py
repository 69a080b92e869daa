"""DynamoDB as boto3, the resource layer and the aws CLI use it: tables and their indexes,
items with exact numbers, every expression (with the AWS developer guide's own examples),
queries and scans with their pages, batches, transactions, the legacy parameters older
SDKs send, TTL, DynamoDB Streams, and items that survive a kill -9."""
import time
from decimal import Decimal

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


def error_of(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response


@pytest.fixture
def ddb(lamina):
    return lamina.client("dynamodb")


@pytest.fixture
def streams(lamina):
    return lamina.client("dynamodbstreams")


def make_table(ddb, name, hash_key=("pk", "S"), range_key=None, **kw):
    attrs = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
    keys = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    if range_key:
        attrs.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
        keys.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
    attrs += kw.pop("extra_attributes", [])
    return ddb.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=keys,
                            BillingMode="PAY_PER_REQUEST", **kw)["TableDescription"]


def S(v):
    return {"S": v}


def N(v):
    return {"N": str(v)}


def test_a_table_is_created_described_listed_updated_and_deleted(ddb):
    created = ddb.create_table(
        TableName="orders",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        Tags=[{"Key": "team", "Value": "a"}],
    )["TableDescription"]
    assert created["TableStatus"] == "CREATING"
    assert created["TableArn"] == "arn:aws:dynamodb:us-east-1:000000000000:table/orders"
    ddb.get_waiter("table_exists").wait(TableName="orders", WaiterConfig={"Delay": 1})
    table = ddb.describe_table(TableName="orders")["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["ProvisionedThroughput"] == {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    assert table["WarmThroughput"]["Status"] == "ACTIVE"
    assert ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"] == [{"Key": "team", "Value": "a"}]

    dup = error_of(lambda: ddb.create_table(
        TableName="orders", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST"))
    assert dup["Error"] == {"Code": "ResourceInUseException", "Message": "Table already exists: orders"}
    both = error_of(lambda: ddb.create_table(
        TableName="other", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}))
    assert both["Error"]["Message"] == ("One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                                        "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
    undefined = error_of(lambda: ddb.create_table(
        TableName="other", AttributeDefinitions=[{"AttributeName": "x", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST"))
    assert "Some index key attributes are not defined in AttributeDefinitions" in undefined["Error"]["Message"]

    for i in range(5):
        make_table(ddb, f"tbl{i}")
    first = ddb.list_tables(Limit=3)
    assert first["TableNames"] == ["orders", "tbl0", "tbl1"]
    rest = ddb.list_tables(ExclusiveStartTableName=first["LastEvaluatedTableName"])
    assert rest["TableNames"] == ["tbl2", "tbl3", "tbl4"] and "LastEvaluatedTableName" not in rest

    ddb.put_item(TableName="orders", Item={"id": S("a"), "team": S("red")})
    updated = ddb.update_table(
        TableName="orders",
        AttributeDefinitions=[{"AttributeName": "team", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "by-team", "KeySchema": [
            {"AttributeName": "team", "KeyType": "HASH"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )["TableDescription"]
    assert updated["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert updated["LatestStreamArn"].startswith(created["TableArn"] + "/stream/")
    # The new index holds the items written before it.
    found = ddb.query(TableName="orders", IndexName="by-team", KeyConditionExpression="team = :t",
                      ExpressionAttributeValues={":t": S("red")})["Items"]
    assert found == [{"id": S("a"), "team": S("red")}]

    deleted = ddb.delete_table(TableName="orders")["TableDescription"]
    assert deleted["TableStatus"] == "DELETING" and deleted["ItemCount"] == 1
    gone = error_of(lambda: ddb.describe_table(TableName="orders"))
    assert gone["Error"] == {"Code": "ResourceNotFoundException",
                             "Message": "Requested resource not found: Table: orders not found"}
    missing = error_of(lambda: ddb.get_item(TableName="orders", Key={"id": S("a")}))
    assert missing["Error"]["Message"] == "Requested resource not found"


def test_items_with_return_values_and_conditions(ddb):
    make_table(ddb, "items")
    put = ddb.put_item(TableName="items", Item={"pk": S("a"), "v": N(1)}, ReturnValues="ALL_OLD")
    assert "Attributes" not in put
    again = ddb.put_item(TableName="items", Item={"pk": S("a"), "v": N(2)}, ReturnValues="ALL_OLD")
    assert again["Attributes"] == {"pk": S("a"), "v": N(1)}

    failed = error_of(lambda: ddb.put_item(
        TableName="items", Item={"pk": S("a")}, ConditionExpression="attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD"))
    assert failed["Error"] == {"Code": "ConditionalCheckFailedException", "Message": "The conditional request failed"}
    assert failed["Item"] == {"pk": S("a"), "v": N(2)}

    upd = ddb.update_item(TableName="items", Key={"pk": S("a")},
                          UpdateExpression="SET v = v + :one, #s = :s", ExpressionAttributeNames={"#s": "status"},
                          ExpressionAttributeValues={":one": N(1), ":s": S("ok")}, ReturnValues="UPDATED_NEW")
    assert upd["Attributes"] == {"v": N(3), "status": S("ok")}
    old = ddb.update_item(TableName="items", Key={"pk": S("a")}, UpdateExpression="REMOVE #s",
                          ExpressionAttributeNames={"#s": "status"}, ReturnValues="UPDATED_OLD")
    assert old["Attributes"] == {"status": S("ok")}
    # An update of an item that is not there creates it.
    new = ddb.update_item(TableName="items", Key={"pk": S("b")}, UpdateExpression="SET c = :c",
                          ExpressionAttributeValues={":c": S("x")}, ReturnValues="ALL_NEW")
    assert new["Attributes"] == {"pk": S("b"), "c": S("x")}

    deleted = ddb.delete_item(TableName="items", Key={"pk": S("b")}, ReturnValues="ALL_OLD")
    assert deleted["Attributes"] == {"pk": S("b"), "c": S("x")}
    assert "Item" not in ddb.get_item(TableName="items", Key={"pk": S("b")})
    got = ddb.get_item(TableName="items", Key={"pk": S("a")}, ProjectionExpression="v",
                       ReturnConsumedCapacity="TOTAL")
    assert got["Item"] == {"v": N(3)}
    assert got["ConsumedCapacity"] == {"TableName": "items", "CapacityUnits": 0.5}


@pytest.mark.parametrize("call,message", [
    (lambda d: d.update_item(TableName="errs", Key={"pk": S("a")}, UpdateExpression="SET status = :s",
                             ExpressionAttributeValues={":s": S("x")}),
     "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status"),
    (lambda d: d.update_item(TableName="errs", Key={"pk": S("a")}, UpdateExpression="SET a = = :s",
                             ExpressionAttributeValues={":s": S("x")}),
     'Invalid UpdateExpression: Syntax error; token: "=", near: "= = :s"'),
    (lambda d: d.update_item(TableName="errs", Key={"pk": S("a")}, UpdateExpression="SET a = :missing",
                             ExpressionAttributeValues={":s": S("x")}),
     "Invalid UpdateExpression: An expression attribute value used in expression is not defined; "
     "attribute value: :missing"),
    (lambda d: d.put_item(TableName="errs", Item={"pk": S("a")}, ConditionExpression="#n = :v",
                          ExpressionAttributeValues={":v": S("x")}),
     "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; "
     "attribute name: #n"),
    (lambda d: d.put_item(TableName="errs", Item={"pk": S("a")}, ConditionExpression="a = :v",
                          ExpressionAttributeValues={":v": S("x"), ":w": S("y")}),
     "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"),
    (lambda d: d.update_item(TableName="errs", Key={"pk": S("a")}, UpdateExpression="SET pk = :v",
                             ExpressionAttributeValues={":v": S("x")}),
     "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"),
    (lambda d: d.update_item(TableName="errs", Key={"pk": S("a")}, UpdateExpression="SET a = :v REMOVE a.b",
                             ExpressionAttributeValues={":v": S("x")}),
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
     "paths; path one: [a], path two: [a, b]"),
    (lambda d: d.put_item(TableName="errs", Item={"pk": N(1)}),
     "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"),
    (lambda d: d.put_item(TableName="errs", Item={"x": S("a")}),
     "One or more parameter values were invalid: Missing the key pk in the item"),
    (lambda d: d.get_item(TableName="errs", Key={"pk": S("a"), "x": S("b")}),
     "The provided key element does not match the schema"),
    (lambda d: d.put_item(TableName="errs", Item={"pk": S("a"), "s": {"SS": ["x", "x"]}}),
     "One or more parameter values were invalid: Input collection [x, x] contains duplicates."),
    (lambda d: d.put_item(TableName="errs", Item={"pk": S("a"), "n": N("1" * 39)}),
     "Attempting to store more than 38 significant digits in a Number"),
    (lambda d: d.put_item(TableName="errs", Item={"pk": S("a"), "big": S("x" * 400 * 1024)}),
     "Item size has exceeded the maximum allowed size"),
    (lambda d: d.put_item(TableName="errs", Item={"pk": S("a")}, Expected={"a": {"Value": S("x")}},
                          ConditionExpression="a = :v", ExpressionAttributeValues={":v": S("x")}),
     "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: "
     "{Expected} Expression parameters: {ConditionExpression}"),
])
def test_bad_requests_get_dynamodbs_words(ddb, call, message):
    make_table(ddb, "errs")
    r = error_of(lambda: call(ddb))
    assert r["Error"] == {"Code": "ValidationException", "Message": message}
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_the_developer_guides_expression_examples(ddb):
    """The ProductCatalog examples of the DynamoDB Developer Guide's expression pages."""
    make_table(ddb, "ProductCatalog", hash_key=("Id", "N"))
    item = {
        "Id": N(123), "Title": S("Bicycle 123"), "Description": S("123 description"),
        "BicycleType": S("Hybrid"), "Brand": S("Brand-Company C"), "Price": N(500),
        "Color": {"SS": ["Red", "Black"]}, "ProductCategory": S("Bicycle"), "InStock": {"BOOL": True},
        "QuantityOnHand": {"NULL": True}, "RelatedItems": {"L": [N(341), N(472), N(649)]},
        "Pictures": {"M": {"FrontView": S("http://example.com/products/123_front.jpg"),
                           "RearView": S("http://example.com/products/123_rear.jpg")}},
        "ProductReviews": {"M": {"FiveStar": {"L": [S("Excellent! Can't recommend it highly enough! Buy it!")]},
                                 "OneStar": {"L": [S("Terrible product! Do not buy this.")]}}},
    }
    ddb.put_item(TableName="ProductCatalog", Item=item)
    key = {"Id": N(123)}
    got = ddb.get_item(TableName="ProductCatalog", Key=key,
                       ProjectionExpression="Description, RelatedItems[0], ProductReviews.FiveStar")["Item"]
    assert got == {"Description": S("123 description"), "RelatedItems": {"L": [N(341)]},
                   "ProductReviews": {"M": {"FiveStar": item["ProductReviews"]["M"]["FiveStar"]}}}

    def update(expr, values=None, names=None, rv="ALL_NEW", **kw):
        args = dict(TableName="ProductCatalog", Key=key, UpdateExpression=expr, ReturnValues=rv, **kw)
        if values:
            args["ExpressionAttributeValues"] = values
        if names:
            args["ExpressionAttributeNames"] = names
        return ddb.update_item(**args).get("Attributes")

    new = update("SET ProductCategory = :c, Price = :p", {":c": S("Hardware"), ":p": N(60)})
    assert new["ProductCategory"] == S("Hardware") and new["Price"] == N(60)
    new = update("SET RelatedItems[1] = :ri", {":ri": S("Hammer")})
    assert new["RelatedItems"] == {"L": [N(341), S("Hammer"), N(649)]}
    new = update("SET #pr.ThreeStar = :r", {":r": {"L": [S("Meh")]}}, {"#pr": "ProductReviews"})
    assert new["ProductReviews"]["M"]["ThreeStar"] == {"L": [S("Meh")]}
    assert update("SET Price = Price - :p", {":p": N(15)})["Price"] == N(45)
    new = update("SET #pr.FiveStar = list_append(#pr.FiveStar, :r)", {":r": {"L": [S("Very happy")]}},
                 {"#pr": "ProductReviews"})
    assert new["ProductReviews"]["M"]["FiveStar"]["L"][-1] == S("Very happy")
    new = update("SET #pr.FiveStar = list_append(:r, #pr.FiveStar)", {":r": {"L": [S("First")]}},
                 {"#pr": "ProductReviews"})
    assert new["ProductReviews"]["M"]["FiveStar"]["L"][0] == S("First")
    assert update("SET Price = if_not_exists(Price, :p)", {":p": N(100)})["Price"] == N(45)
    new = update("REMOVE Brand, InStock, QuantityOnHand")
    assert not {"Brand", "InStock", "QuantityOnHand"} & set(new)
    new = update("REMOVE RelatedItems[1], RelatedItems[2]")
    assert new["RelatedItems"] == {"L": [N(341)]}
    assert update("ADD QuantityOnHand :q", {":q": N(5)})["QuantityOnHand"] == N(5)
    assert set(update("ADD Color :c", {":c": {"SS": ["Orange", "Purple"]}})["Color"]["SS"]) == {
        "Red", "Black", "Orange", "Purple"}
    assert set(update("DELETE Color :p", {":p": {"SS": ["Red", "Purple"]}})["Color"]["SS"]) == {"Black", "Orange"}

    def holds(cond, values=None, names=None):
        args = dict(TableName="ProductCatalog", Key=key, ConditionExpression=cond,
                    UpdateExpression="SET Checked = :yes")
        args["ExpressionAttributeValues"] = dict(values or {}, **{":yes": {"BOOL": True}})
        if names:
            args["ExpressionAttributeNames"] = names
        try:
            ddb.update_item(**args)
            return True
        except ddb.exceptions.ConditionalCheckFailedException:
            return False

    assert holds("attribute_exists(Pictures.FrontView)")
    assert not holds("attribute_not_exists(Price)")
    assert holds("attribute_type(ProductReviews.FiveStar, :v_sub)", {":v_sub": S("L")})
    assert holds("begins_with(Pictures.FrontView, :v_sub)", {":v_sub": S("http://")})
    assert holds("contains(Color, :v_sub)", {":v_sub": S("Black")})
    assert holds("size(Description) < :v_sub", {":v_sub": N(20)})
    assert holds("ProductCategory IN (:cat1, :cat2) and (Price between :lo and :hi)",
                 {":cat1": S("Sporting Goods"), ":cat2": S("Hardware"), ":lo": N(10), ":hi": N(50)})
    assert not holds("NOT contains(Color, :c) OR Price > :hi", {":c": S("Black"), ":hi": N(500)})
    assert holds("#p <> :v", {":v": N(1)}, {"#p": "Price"})


def test_numbers_are_exact_and_ordered_as_numbers(lamina, ddb):
    make_table(ddb, "nums", hash_key=("pk", "S"), range_key=("n", "N"))
    values = ["-1E10", "-12.5", "-0.001", "0", "0.1", "2", "10", "99999999999999999999999999999999999999", "1E100"]
    for v in values:
        ddb.put_item(TableName="nums", Item={"pk": S("p"), "n": N(v), "v": N(v)})
    items = ddb.query(TableName="nums", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": S("p")})
    assert [i["n"]["N"] for i in items["Items"]] == [
        "-10000000000", "-12.5", "-0.001", "0", "0.1", "2", "10", "99999999999999999999999999999999999999",
        "1" + "0" * 100]
    ddb.put_item(TableName="nums", Item={"pk": S("sum"), "n": N(0), "v": N("0.1")})
    new = ddb.update_item(TableName="nums", Key={"pk": S("sum"), "n": N(0)}, UpdateExpression="ADD v :x",
                          ExpressionAttributeValues={":x": N("0.2")}, ReturnValues="UPDATED_NEW")
    assert new["Attributes"]["v"] == N("0.3")
    # The resource layer reads them back as Decimals, digit for digit.
    table = boto3.resource("dynamodb", endpoint_url=lamina.url, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test").Table("nums")
    table.put_item(Item={"pk": "d", "n": 1, "v": Decimal("12345678901234567890.123456789012345678")})
    assert table.get_item(Key={"pk": "d", "n": 1})["Item"]["v"] == Decimal("12345678901234567890.123456789012345678")
    over = error_of(lambda: ddb.update_item(
        TableName="nums", Key={"pk": S("sum"), "n": N(0)}, UpdateExpression="SET v = :a + :b",
        ExpressionAttributeValues={":a": N("9.9999999999999999999999999999999999999E+125"), ":b": N("1E125")}))
    assert over["Error"]["Message"] == ("Number overflow. Attempting to store a number with magnitude larger than "
                                        "supported range")


def test_queries_page_through_keys_in_dynamodbs_order(ddb):
    make_table(ddb, "events", hash_key=("user", "S"), range_key=("at", "S"),
               extra_attributes=[{"AttributeName": "kind", "AttributeType": "S"},
                                 {"AttributeName": "n", "AttributeType": "N"}],
               GlobalSecondaryIndexes=[{"IndexName": "by-kind", "KeySchema": [
                   {"AttributeName": "kind", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
                   "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]}}],
               LocalSecondaryIndexes=[{"IndexName": "by-n", "KeySchema": [
                   {"AttributeName": "user", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
                   "Projection": {"ProjectionType": "ALL"}}])
    writes = []
    for i in range(30):
        item = {"user": S("u1"), "at": S(f"2024-01-{i + 1:02d}"), "n": N(30 - i),
                "kind": S("click" if i % 3 else "view"), "note": S(f"n{i}"), "other": S("x")}
        writes.append({"PutRequest": {"Item": item}})
    for chunk in range(0, 30, 10):
        r = ddb.batch_write_item(RequestItems={"events": writes[chunk:chunk + 10]})
        assert r["UnprocessedItems"] == {}
    ddb.put_item(TableName="events", Item={"user": S("u2"), "at": S("2024-01-01"), "kind": S("view"), "n": N(100)})

    pages, start = [], None
    while True:
        args = dict(TableName="events", KeyConditionExpression="#u = :u AND begins_with(#a, :m)",
                    ExpressionAttributeNames={"#u": "user", "#a": "at"},
                    ExpressionAttributeValues={":u": S("u1"), ":m": S("2024-01-")}, Limit=7, ScanIndexForward=False)
        if start:
            args["ExclusiveStartKey"] = start
        r = ddb.query(**args)
        pages.append([i["at"]["S"] for i in r["Items"]])
        start = r.get("LastEvaluatedKey")
        if not start:
            break
    flat = [a for p in pages for a in p]
    assert flat == [f"2024-01-{d:02d}" for d in range(30, 0, -1)]
    assert [len(p) for p in pages][:4] == [7, 7, 7, 7]

    between = ddb.query(TableName="events", KeyConditionExpression="#u = :u AND #a BETWEEN :a AND :b",
                        ExpressionAttributeNames={"#u": "user", "#a": "at"},
                        ExpressionAttributeValues={":u": S("u1"), ":a": S("2024-01-05"), ":b": S("2024-01-07"),
                                                   ":k": S("click")},
                        FilterExpression="kind = :k", Select="COUNT")
    assert (between["Count"], between["ScannedCount"]) == (2, 3) and "Items" not in between

    by_n = ddb.query(TableName="events", IndexName="by-n", KeyConditionExpression="#u = :u AND n <= :n",
                     ExpressionAttributeNames={"#u": "user"}, ExpressionAttributeValues={":u": S("u1"), ":n": N(3)})
    assert [i["n"]["N"] for i in by_n["Items"]] == ["1", "2", "3"] and by_n["Items"][0]["other"] == S("x")

    views = ddb.query(TableName="events", IndexName="by-kind", KeyConditionExpression="kind = :k AND n > :n",
                      ExpressionAttributeValues={":k": S("view"), ":n": N(20)})
    assert [i["n"]["N"] for i in views["Items"]] == ["21", "24", "27", "30", "100"]
    assert set(views["Items"][0]) == {"user", "at", "kind", "n", "note"}, "INCLUDE projects keys and note"

    bad = error_of(lambda: ddb.query(TableName="events", KeyConditionExpression="kind = :k",
                                     ExpressionAttributeValues={":k": S("view")}))
    assert bad["Error"]["Message"] == "Query condition missed key schema element: user"
    key_filter = error_of(lambda: ddb.query(
        TableName="events", KeyConditionExpression="#u = :u", FilterExpression="#a = :a",
        ExpressionAttributeNames={"#u": "user", "#a": "at"}, ExpressionAttributeValues={":u": S("u1"), ":a": S("x")}))
    assert key_filter["Error"]["Message"] == (
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: at")
    no_index = error_of(lambda: ddb.query(TableName="events", IndexName="nope", KeyConditionExpression="kind = :k",
                                          ExpressionAttributeValues={":k": S("view")}))
    assert no_index["Error"]["Message"] == "The table does not have the specified index: nope"


def test_parallel_scans_split_the_table_and_filters_count(ddb):
    make_table(ddb, "scan", hash_key=("id", "N"))
    for chunk in range(0, 100, 25):
        ddb.batch_write_item(RequestItems={"scan": [
            {"PutRequest": {"Item": {"id": N(i), "even": {"BOOL": i % 2 == 0}}}} for i in range(chunk, chunk + 25)]})
    seen = []
    for segment in range(4):
        start = None
        while True:
            args = dict(TableName="scan", Segment=segment, TotalSegments=4, Limit=10)
            if start:
                args["ExclusiveStartKey"] = start
            r = ddb.scan(**args)
            seen += [int(i["id"]["N"]) for i in r["Items"]]
            start = r.get("LastEvaluatedKey")
            if not start:
                break
    assert sorted(seen) == list(range(100)), "every item in exactly one segment"
    evens = ddb.scan(TableName="scan", FilterExpression="even = :t", ExpressionAttributeValues={":t": {"BOOL": True}})
    assert (evens["Count"], evens["ScannedCount"]) == (50, 100)
    bad = error_of(lambda: ddb.scan(TableName="scan", Segment=4, TotalSegments=4))
    assert "Segment: 4 is not less than TotalSegments: 4" in bad["Error"]["Message"]


def test_batches_and_transactions(ddb):
    make_table(ddb, "acct")
    make_table(ddb, "log")
    ddb.batch_write_item(RequestItems={"acct": [{"PutRequest": {"Item": {"pk": S(n), "bal": N(100)}}} for n in "ab"]})
    got = ddb.batch_get_item(RequestItems={"acct": {"Keys": [{"pk": S("a")}, {"pk": S("b")}, {"pk": S("z")}],
                                                    "ProjectionExpression": "bal"}})
    assert sorted(i["bal"]["N"] for i in got["Responses"]["acct"]) == ["100", "100"]
    assert got["UnprocessedKeys"] == {}
    dup = error_of(lambda: ddb.batch_write_item(RequestItems={"acct": [
        {"PutRequest": {"Item": {"pk": S("a")}}}, {"DeleteRequest": {"Key": {"pk": S("a")}}}]}))
    assert dup["Error"]["Message"] == "Provided list of item keys contains duplicates"

    def transfer(amount, token=None):
        args = dict(TransactItems=[
            {"Update": {"TableName": "acct", "Key": {"pk": S("a")}, "UpdateExpression": "SET bal = bal - :x",
                        "ConditionExpression": "bal >= :x", "ExpressionAttributeValues": {":x": N(amount)},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Update": {"TableName": "acct", "Key": {"pk": S("b")}, "UpdateExpression": "SET bal = bal + :x",
                        "ExpressionAttributeValues": {":x": N(amount)}}},
            {"Put": {"TableName": "log", "Item": {"pk": S(f"t{amount}"), "amount": N(amount)}}},
        ])
        if token:
            args["ClientRequestToken"] = token
        return ddb.transact_write_items(**args)

    transfer(30, token="tok-1")
    transfer(30, token="tok-1")  # the same request again: not applied twice
    balances = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": "acct", "Key": {"pk": S(n)}}} for n in "ab"])
    assert [r["Item"]["bal"]["N"] for r in balances["Responses"]] == ["70", "130"]
    mismatch = error_of(lambda: transfer(10, token="tok-1"))
    assert mismatch["Error"]["Code"] == "IdempotentParameterMismatchException"

    cancelled = error_of(lambda: transfer(500))
    assert cancelled["Error"] == {
        "Code": "TransactionCanceledException",
        "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
                   "[ConditionalCheckFailed, None, None]"}
    assert cancelled["CancellationReasons"] == [
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
         "Item": {"pk": S("a"), "bal": N(70)}}, {"Code": "None"}, {"Code": "None"}]
    assert "Item" not in ddb.get_item(TableName="log", Key={"pk": S("t500")}), "nothing of it was written"
    same = error_of(lambda: ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "acct", "Item": {"pk": S("a")}}},
        {"Delete": {"TableName": "acct", "Key": {"pk": S("a")}}}]))
    assert same["Error"]["Message"] == "Transaction request cannot include multiple operations on one item"


def test_the_legacy_parameters_older_sdks_send(ddb):
    make_table(ddb, "legacy", hash_key=("pk", "S"), range_key=("sk", "N"))
    for i in range(5):
        ddb.put_item(TableName="legacy", Item={"pk": S("a"), "sk": N(i), "tag": S("even" if i % 2 == 0 else "odd")})
    failed = error_of(lambda: ddb.put_item(TableName="legacy", Item={"pk": S("a"), "sk": N(1)},
                                           Expected={"tag": {"Value": S("even")}}))
    assert failed["Error"]["Code"] == "ConditionalCheckFailedException"
    ddb.put_item(TableName="legacy", Item={"pk": S("a"), "sk": N(9)}, Expected={"pk": {"Exists": False}})
    ddb.update_item(TableName="legacy", Key={"pk": S("a"), "sk": N(1)},
                    AttributeUpdates={"count": {"Action": "ADD", "Value": N(2)}, "tag": {"Action": "DELETE"}})
    assert ddb.get_item(TableName="legacy", Key={"pk": S("a"), "sk": N(1)}, AttributesToGet=["count", "tag"])["Item"] == {
        "count": N(2)}
    r = ddb.query(TableName="legacy", KeyConditions={
        "pk": {"AttributeValueList": [S("a")], "ComparisonOperator": "EQ"},
        "sk": {"AttributeValueList": [N(1), N(4)], "ComparisonOperator": "BETWEEN"}},
        QueryFilter={"tag": {"AttributeValueList": [S("even")], "ComparisonOperator": "EQ"}})
    assert [i["sk"]["N"] for i in r["Items"]] == ["2", "4"]
    r = ddb.scan(TableName="legacy", ScanFilter={"tag": {"ComparisonOperator": "NULL"}})
    assert sorted(i["sk"]["N"] for i in r["Items"]) == ["1", "9"]


def records_of(streams, arn, kind="TRIM_HORIZON", **kw):
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **kw)["ShardIterator"]
    return streams.get_records(ShardIterator=it)["Records"]


def test_streams_record_every_change_with_the_images_asked_for(ddb, streams):
    table = make_table(ddb, "watched", StreamSpecification={"StreamEnabled": True,
                                                             "StreamViewType": "NEW_AND_OLD_IMAGES"})
    arn = table["LatestStreamArn"]
    assert streams.list_streams(TableName="watched")["Streams"] == [
        {"StreamArn": arn, "TableName": "watched", "StreamLabel": table["LatestStreamLabel"]}]
    ddb.put_item(TableName="watched", Item={"pk": S("a"), "v": N(1)})
    ddb.put_item(TableName="watched", Item={"pk": S("a"), "v": N(1)})  # unchanged: no record
    ddb.update_item(TableName="watched", Key={"pk": S("a")}, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": N(2)})
    ddb.delete_item(TableName="watched", Key={"pk": S("a")})
    records = records_of(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = (r["dynamodb"] for r in records)
    assert insert["Keys"] == {"pk": S("a")} and insert["NewImage"] == {"pk": S("a"), "v": N(1)}
    # Keys: "pk" and "a"; the image: those and "v" with a one-digit number (two bytes).
    assert "OldImage" not in insert and insert["SizeBytes"] == 3 + 3 + 3
    assert modify["OldImage"]["v"] == N(1) and modify["NewImage"]["v"] == N(2)
    assert remove["OldImage"] == {"pk": S("a"), "v": N(2)} and "NewImage" not in remove
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert all(r["eventSource"] == "aws:dynamodb" and r["awsRegion"] == "us-east-1" for r in records)
    after = records_of(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=records[0]["dynamodb"]["SequenceNumber"])
    assert [r["eventName"] for r in after] == ["MODIFY", "REMOVE"]
    assert records_of(streams, arn, "LATEST") == []
    missing = error_of(lambda: streams.describe_stream(StreamArn=arn + "x"))
    assert missing["Error"]["Message"] == f"Requested resource not found: Stream: {arn}x not found"


def test_expired_items_are_removed_by_dynamodb_itself(ddb, streams):
    table = make_table(ddb, "sessions", StreamSpecification={"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"})
    ddb.update_time_to_live(TableName="sessions", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert ddb.describe_time_to_live(TableName="sessions")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    now = int(time.time())
    ddb.put_item(TableName="sessions", Item={"pk": S("old"), "exp": N(now - 10)})
    ddb.put_item(TableName="sessions", Item={"pk": S("new"), "exp": N(now + 3600)})
    ddb.put_item(TableName="sessions", Item={"pk": S("none")})
    deadline = time.monotonic() + 30
    while "Item" in ddb.get_item(TableName="sessions", Key={"pk": S("old")}) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "Item" not in ddb.get_item(TableName="sessions", Key={"pk": S("old")})
    assert "Item" in ddb.get_item(TableName="sessions", Key={"pk": S("new")})
    assert "Item" in ddb.get_item(TableName="sessions", Key={"pk": S("none")})
    removed = [r for r in records_of(streams, table["LatestStreamArn"]) if r["eventName"] == "REMOVE"]
    assert len(removed) == 1
    assert removed[0]["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}


def test_items_and_stream_records_survive_a_kill_9(lamina):
    ddb = lamina.client("dynamodb")
    table = make_table(ddb, "durable", StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    for i in range(20):
        ddb.put_item(TableName="durable", Item={"pk": S(f"k{i}"), "v": N(i)})
    lamina.restart(hard=True)
    ddb = lamina.client("dynamodb")
    assert ddb.scan(TableName="durable", Select="COUNT")["Count"] == 20
    assert ddb.describe_table(TableName="durable")["Table"]["ItemCount"] == 20
    assert len(records_of(lamina.client("dynamodbstreams"), table["LatestStreamArn"])) == 20


def test_the_aws_cli_and_bad_bodies(lamina, ddb):
    lamina.aws("dynamodb", "create-table", "--table-name", "cli", "--attribute-definitions",
               "AttributeName=id,AttributeType=S", "--key-schema", "AttributeName=id,KeyType=HASH",
               "--billing-mode", "PAY_PER_REQUEST")
    lamina.aws("dynamodb", "put-item", "--table-name", "cli", "--item", '{"id": {"S": "x"}, "n": {"N": "7"}}')
    out = lamina.aws("dynamodb", "get-item", "--table-name", "cli", "--key", '{"id": {"S": "x"}}')
    assert out["Item"] == {"id": S("x"), "n": N(7)}
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.PutItem",
               "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261205/us-east-1/dynamodb/aws4_request, "
                                "SignedHeaders=host, Signature=0"}
    deep = '{"L": [' * 40 + '{"S": "x"}' + ']}' * 40
    for body in [b"{not json", b'{"TableName": "cli", "Item": {"id": {"S": "y"}, "d": ' + deep.encode() + b"}}",
                 b'{"TableName": "cli", "Item": {"id": {}}}']:
        status, _, answer = lamina.http("POST", "/", body, headers)
        assert status == 400, answer
    assert ddb.get_item(TableName="cli", Key={"id": S("x")})["Item"]["n"] == N(7), "the server is still up"
