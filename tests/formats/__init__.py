"""Tests of the input and output formats."""
