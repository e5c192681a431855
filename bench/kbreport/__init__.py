# SPDX-License-Identifier: MIT
"""The pieces of bench/report.py, one concern each.

runs      ksync-bench's JSON as runs: names, labels, medians, repetitions; what each bench measures
fmt       numbers, durations, ratios and Markdown tables as text
targets   the targets and the other headline figures, as a table of data, and their evaluation
summary   summary.md: the sections, in order
reasons   why ksync loses where it loses: the explanations, as data
losses    finding the losses and picking their explanation
machines  every machine under bench/results/: one table, the range of each figure
gnuplot   styles, ticks and script pieces shared by the plots
plots     the PNG figures
"""
