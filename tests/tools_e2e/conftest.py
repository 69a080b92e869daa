"""The deploy tools' end-to-end tests (`cargo xtask test --tools`): the real SAM CLI, the
Serverless Framework and the CDK against the real binary. They share the end-to-end
harness (`tests/e2e/conftest.py`); the tools are installed by the `--tools` run into the
repository's ignored tool directories and named by environment variables."""
import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("e2e_harness", Path(__file__).resolve().parents[1] / "e2e" / "conftest.py")
harness = importlib.util.module_from_spec(_spec)
sys.modules["e2e_harness"] = harness
_spec.loader.exec_module(harness)

lamina = harness.lamina
sdk_layer = harness.sdk_layer
