#!/bin/bash
cd /work/main
date > /work/quiet9/run_log.txt
uptime >> /work/quiet9/run_log.txt
/tmp/pfc >> /work/quiet9/run_log.txt 2>&1
/usr/bin/python3 perf/model/measure_inputs.py --build build --out perf/results/2026-12-07d-model/inputs_window.json >> /work/quiet9/run_log.txt 2>&1
echo "measure rc $?" >> /work/quiet9/run_log.txt; date >> /work/quiet9/run_log.txt; uptime >> /work/quiet9/run_log.txt
/usr/bin/python3 perf/model/validate.py --build build --inputs perf/results/2026-12-07d-model/inputs_window.json --out perf/results/2026-12-07d-model >> /work/quiet9/run_log.txt 2>&1
echo "validate rc $?" >> /work/quiet9/run_log.txt; date >> /work/quiet9/run_log.txt; uptime >> /work/quiet9/run_log.txt
/tmp/pfc >> /work/quiet9/run_log.txt 2>&1
