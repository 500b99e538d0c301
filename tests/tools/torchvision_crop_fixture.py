#!/usr/bin/python3
"""Writes tests/data/torchvision_resized_crop.txt: torchvision's RandomResizedCrop.get_params on random
cases, with every random draw it made (torch.Tensor.uniform_ and torch.randint, recorded around the real
calls). test_resized_crop replays the draws through Ferry's resized_crop_box and expects the same window.
Run with Debian's /usr/bin/python3 (python3-torchvision); the output is committed.

Line format: H W scale_lo scale_hi ratio_lo ratio_hi ; draws ; top left height width
draws: "u lo hi value" (uniform_) or "i high value" (randint(0, high)), separated by ","."""
import random
import sys

import torch
import torchvision
from torchvision import transforms

events = []
real_uniform = torch.Tensor.uniform_
real_randint = torch.randint


def uniform_(self, lo, hi):
    out = real_uniform(self, lo, hi)
    events.append(f"u {float(lo)!r} {float(hi)!r} {float(out.item())!r}")
    return out


def randint(low, high, size, **kw):
    assert low == 0
    out = real_randint(low, high, size, **kw)
    events.append(f"i {int(high)} {int(out.item())}")
    return out


torch.Tensor.uniform_ = uniform_
torch.randint = randint


def case(h, w, scale, ratio):
    events.clear()
    img = torch.empty(3, h, w, dtype=torch.uint8)
    top, left, ch, cw = transforms.RandomResizedCrop.get_params(img, list(scale), list(ratio))
    return f"{h} {w} {scale[0]!r} {scale[1]!r} {ratio[0]!r} {ratio[1]!r} ; {', '.join(events)} ; {top} {left} {ch} {cw}"


def main():
    torch.manual_seed(17)
    rnd = random.Random(17)
    lines = [f"# torchvision {torchvision.__version__}, torch {torch.__version__}: tests/tools/torchvision_crop_fixture.py"]
    default = ((0.08, 1.0), (3.0 / 4.0, 4.0 / 3.0))
    for _ in range(150):  # ImageNet-like sizes, the default ranges
        lines.append(case(rnd.randint(200, 500), rnd.randint(200, 500), *default))
    for _ in range(30):  # narrow images: some tries miss
        lines.append(case(rnd.randint(300, 600), rnd.randint(5, 40), *default))
    for _ in range(20):  # no try can fit: the centre fallback, both sides of the ratio range
        h, w = rnd.randint(20, 60), rnd.randint(20, 60)
        lines.append(case(h, w, (0.9, 1.0), (5.0, 6.0)))
        lines.append(case(h, w, (0.9, 1.0), (0.1, 0.2)))
    for _ in range(20):  # other ranges
        lines.append(case(rnd.randint(50, 300), rnd.randint(50, 300), (0.25, 0.5), (0.5, 2.0)))
    sys.stdout.write("\n".join(lines) + "\n")


main()
