#!/bin/bash
cd /work/main
date > /tmp/run_log.txt
uptime >> /tmp/run_log.txt
/usr/bin/python3 perf/model/measure_inputs.py --build build --out perf/results/2026-12-07b-model/inputs_window.json >> /tmp/run_log.txt 2>&1
echo "measure rc $?" >> /tmp/run_log.txt; date >> /tmp/run_log.txt; uptime >> /tmp/run_log.txt
/usr/bin/python3 perf/model/validate.py --build build --inputs perf/results/2026-12-07b-model/inputs_window.json --out perf/results/2026-12-07b-model >> /tmp/run_log.txt 2>&1
echo "validate rc $?" >> /tmp/run_log.txt; date >> /tmp/run_log.txt; uptime >> /tmp/run_log.txt
