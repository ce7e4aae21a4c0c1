#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# t05-layout.sh -- the architecture as tests (tests/layout.py; README,
# "Architecture"): layers include only the layers below them, no header or
# module cycles, no .c file over 800 lines, no function over 120, every
# source file opens with its licence line, and no test script checks $? after
# a loop that ends in "|| break" (its status is then 0). Reads the sources;
# starts nothing.
set -u
: "${top_srcdir:=.}"
if [ -x /usr/bin/python3 ]; then : "${PYTHON3:=/usr/bin/python3}"; fi
: "${PYTHON3:=python3}"
exec "$PYTHON3" "$top_srcdir/tests/layout.py" "$top_srcdir"
