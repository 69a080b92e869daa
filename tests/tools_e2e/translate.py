"""Expands a SAM template with AWS's own translator (aws-sam-translator, installed with
the SAM CLI): the reference Lamina's transform is compared with. Run with the SAM CLI's
Python; prints the expanded template as JSON."""
import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The translator asks IAM for AWS's managed policies' ARNs only for names it cannot
    write itself; the templates compared name none such."""

    def load(self):
        return {}


template = yaml_parse(open(sys.argv[1]).read())
expanded = transform(template, {"AWS::Region": "us-east-1", "AWS::Partition": "aws"}, NoManagedPolicies())
print(json.dumps(expanded))
