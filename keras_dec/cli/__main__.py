"""`python -m keras_dec.cli`: the `keras-dec` command."""

import sys

from keras_dec.cli import console_main

sys.exit(console_main())
