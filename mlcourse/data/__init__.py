"""Offline, real data sets for the tutorials. Every file is SHA-256 checked before use.

Modules: ``files`` (cache folder and checksums), ``series`` (daily series, lecture 2),
``fashion_mnist`` (images, lectures 3-9); later lectures add theirs.
"""
