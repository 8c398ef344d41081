"""The CDK app of the stack (see app.py). Everything here is synth-time code: nothing in
functions/ imports it."""

import os

# jsii prints a full-screen banner on every run while the machine's Node is past jsii's support
# window; the banner drowns synth and test output. Set the variable yourself to see it again.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
