#!/bin/bash
cd /work/main
date > /work/quiet/log.txt
uptime >> /work/quiet/log.txt
/usr/bin/python3 perf/model/measure_inputs.py --build build --out /work/quiet/here.json >> /work/quiet/log.txt 2>&1
echo "measure rc $?" >> /work/quiet/log.txt; date >> /work/quiet/log.txt; uptime >> /work/quiet/log.txt
/usr/bin/python3 perf/model/validate.py --build build --inputs /work/quiet/here.json --out /work/quiet/val >> /work/quiet/log.txt 2>&1
echo "validate rc $?" >> /work/quiet/log.txt; date >> /work/quiet/log.txt; uptime >> /work/quiet/log.txt
