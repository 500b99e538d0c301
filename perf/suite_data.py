"""The comparison datasets of the suite (perf/suite.py), generated once per run under OUT/data: Fashion-MNIST
(imported when /usr/share/datasets/fashion-mnist has it, synthetic of the same shape otherwise), 224x224 RGB
images, and CosmoFlow-like volumes one file per sample."""

import os

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
IMAGES = {"image": "/images", "label": "/labels"}
FILES = {"fmnist": "fmnist.h5", "image": "image224.h5", "cosmo": "cosmo48"}  # under OUT/data
TEMPLATES = {  # pipeline templates (suite_runner.Suite.config), less the files
    "fmnist": dict(fields=IMAGES, batch=64,
                   prepare={"image": "cast(scale=0.00392157) | normalize(mean=[0.286], std=[0.353])"},
                   augment={"image": "random_flip(p=0.5)"}),
    "image": dict(fields=IMAGES, batch=16, prepare={"image": "cast(scale=0.00392157) | hwc_to_chw"},
                  augment={"image": "random_flip"}),
    "cosmo": dict(layout="file_per_sample", fields={"full": "full", "params": "unitPar"}, batch=4,
                  prepare={"full": "cast | log1p"}),
}


def gen_image(s, path, samples, side, *flags, log="data"):
    """ferry-gen image: `samples` images of side x side (more ferry-gen flags after), its output in raw/LOG.log."""
    s.sh([s.gen, "image", "--out", path, "--samples", str(samples), "--height", str(side), "--width", str(side),
          *flags], log)


def _generate(s, kind, path):
    """Writes the dataset `kind` at path (its output in raw/data.log)."""
    q = s.quick
    if kind == "fmnist":
        fm, part = FASHION_MNIST, "t10k" if q else "train"
        if os.path.exists(f"{fm}/{part}-images-idx3-ubyte.gz"):
            s.sh([s.importer, "idx", "--images", f"{fm}/{part}-images-idx3-ubyte.gz", "--labels",
                  f"{fm}/{part}-labels-idx1-ubyte.gz", "--out", path], "data")
        else:  # same shape and type, synthetic
            gen_image(s, path, 10000 if q else 60000, 28, "--channels", "1")
    elif kind == "image":
        gen_image(s, path, 256 if q else 1536, 224, "--channels", "3")
    else:
        s.sh([s.gen, "cosmoflow", "--out", path, "--samples", "48" if q else "256", "--cosmo-width", "48"], "data")


def dataset(s, kind):
    """(pipeline template, files) of `kind` (also perf/torch_loader.py's --kind): fmnist, image or cosmo.
    Generated on first use."""
    if kind not in FILES:
        raise ValueError(kind)
    path = os.path.join(s.data, FILES[kind])
    if not os.path.exists(path):
        _generate(s, kind, path)
    return dict(TEMPLATES[kind], files=path), path
