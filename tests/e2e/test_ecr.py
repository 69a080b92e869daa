"""ECR's repository catalogue, driven by boto3 and the aws CLI: repositories with their
settings, policies and tags, AWS's errors, the empty image listings of a server that runs
no registry, and persistence across a kill -9."""
import json

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def ecr(lamina):
    return lamina.client("ecr")


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "pull", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
     "Action": ["ecr:BatchGetImage"]}]}
LIFECYCLE = {"rules": [{"rulePriority": 1, "selection": {
    "tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 5}, "action": {"type": "expire"}}]}


def test_repositories_with_their_settings_and_errors(ecr):
    made = ecr.create_repository(repositoryName="team/app", imageTagMutability="IMMUTABLE",
                                 imageScanningConfiguration={"scanOnPush": True},
                                 tags=[{"Key": "team", "Value": "a"}])["repository"]
    assert made["repositoryArn"] == "arn:aws:ecr:us-east-1:000000000000:repository/team/app"
    assert made["repositoryUri"] == "000000000000.dkr.ecr.us-east-1.amazonaws.com/team/app"
    assert (made["registryId"], made["imageTagMutability"]) == ("000000000000", "IMMUTABLE")
    assert made["imageScanningConfiguration"] == {"scanOnPush": True}
    assert made["encryptionConfiguration"] == {"encryptionType": "AES256"}
    assert error_of(ecr.create_repository, repositoryName="team/app") == (
        "RepositoryAlreadyExistsException",
        "The repository with name 'team/app' already exists in the registry with id '000000000000'")
    assert error_of(ecr.describe_repositories, repositoryNames=["team/app", "gone"]) == (
        "RepositoryNotFoundException",
        "The repository with name 'gone' does not exist in the registry with id '000000000000'")
    code, message = error_of(ecr.create_repository, repositoryName="Bad Name")
    assert code == "ValidationException" and "'Bad Name' at 'repositoryName'" in message
    # Pages, by name.
    for name in ("bb", "cc", "aa"):
        ecr.create_repository(repositoryName=name)
    first = ecr.describe_repositories(maxResults=2)
    assert [r["repositoryName"] for r in first["repositories"]] == ["aa", "bb"]
    rest = ecr.describe_repositories(maxResults=2, nextToken=first["nextToken"])
    assert [r["repositoryName"] for r in rest["repositories"]] == ["cc", "team/app"] and "nextToken" not in rest
    # Another account's registry is refused, as no repository policy allows it.
    assert error_of(ecr.describe_repositories, registryId="111111111111")[0] == "AccessDeniedException"
    # Settings change in place.
    ecr.put_image_tag_mutability(repositoryName="aa", imageTagMutability="IMMUTABLE")
    ecr.put_image_scanning_configuration(repositoryName="aa", imageScanningConfiguration={"scanOnPush": True})
    a = ecr.describe_repositories(repositoryNames=["aa"])["repositories"][0]
    assert (a["imageTagMutability"], a["imageScanningConfiguration"]) == ("IMMUTABLE", {"scanOnPush": True})
    gone = ecr.delete_repository(repositoryName="bb", force=True)["repository"]
    assert gone["repositoryName"] == "bb"
    assert error_of(ecr.delete_repository, repositoryName="bb")[0] == "RepositoryNotFoundException"


def test_policies_tags_and_images(ecr):
    ecr.create_repository(repositoryName="app")
    assert error_of(ecr.get_repository_policy, repositoryName="app") == (
        "RepositoryPolicyNotFoundException",
        "Repository policy does not exist for the repository with name 'app' in the registry with id '000000000000'")
    assert error_of(ecr.set_repository_policy, repositoryName="app", policyText="not json")[0] == \
        "InvalidParameterException"
    ecr.set_repository_policy(repositoryName="app", policyText=json.dumps(POLICY))
    assert json.loads(ecr.get_repository_policy(repositoryName="app")["policyText"]) == POLICY
    ecr.delete_repository_policy(repositoryName="app")
    assert error_of(ecr.get_repository_policy, repositoryName="app")[0] == "RepositoryPolicyNotFoundException"
    assert error_of(ecr.get_lifecycle_policy, repositoryName="app")[0] == "LifecyclePolicyNotFoundException"
    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=json.dumps(LIFECYCLE))
    assert json.loads(ecr.get_lifecycle_policy(repositoryName="app")["lifecyclePolicyText"]) == LIFECYCLE
    arn = "arn:aws:ecr:us-east-1:000000000000:repository/app"
    ecr.tag_resource(resourceArn=arn, tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    ecr.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert ecr.list_tags_for_resource(resourceArn=arn)["tags"] == [{"Key": "b", "Value": "2"}]
    # No registry: a repository holds no images.
    assert ecr.list_images(repositoryName="app")["imageIds"] == []
    assert ecr.describe_images(repositoryName="app")["imageDetails"] == []
    assert error_of(ecr.describe_images, repositoryName="app", imageIds=[{"imageTag": "latest"}]) == (
        "ImageNotFoundException",
        "The image with imageId {imageDigest:'null', imageTag:'latest'} does not exist within the repository "
        "with name 'app' in the registry with id '000000000000'")
    deleted = ecr.batch_delete_image(repositoryName="app", imageIds=[{"imageTag": "v1"}])
    assert deleted["imageIds"] == []
    assert deleted["failures"] == [{"imageId": {"imageTag": "v1"}, "failureCode": "ImageNotFound",
                                    "failureReason": "Requested image not found"}]
    assert error_of(ecr.list_images, repositoryName="nope")[0] == "RepositoryNotFoundException"
    with pytest.raises(ClientError) as e:
        ecr.get_authorization_token()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_repositories_survive_a_kill_9_and_the_cli_reads_them(lamina, ecr):
    ecr.create_repository(repositoryName="kept", tags=[{"Key": "k", "Value": "v"}])
    ecr.put_lifecycle_policy(repositoryName="kept", lifecyclePolicyText=json.dumps(LIFECYCLE))
    lamina.restart(hard=True)
    shown = lamina.aws("ecr", "describe-repositories", "--repository-names", "kept")["repositories"]
    assert [r["repositoryName"] for r in shown] == ["kept"]
    assert json.loads(lamina.aws("ecr", "get-lifecycle-policy", "--repository-name", "kept")["lifecyclePolicyText"]) \
        == LIFECYCLE
    assert lamina.aws("ecr", "list-tags-for-resource", "--resource-arn",
                      "arn:aws:ecr:us-east-1:000000000000:repository/kept")["tags"] == [{"Key": "k", "Value": "v"}]
