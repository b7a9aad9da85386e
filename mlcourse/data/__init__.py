"""Offline, real data sets for the tutorials. Every file is SHA-256 checked before use.

Modules: ``files`` (cache folder and checksums), ``series`` (daily series, lecture 2),
``fashion_mnist`` (images, lectures 3-9, 11), ``subsets`` (nested stratified training fractions),
``sequence_labeling`` (the synthetic "I saw a saw" task) and ``tagged_text`` (WSJ and Turkish UD
tags and lemmas, lectures 10-12), ``graphs`` (labelled graphs shipped with networkx, lecture 11).
"""
