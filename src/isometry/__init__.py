"""isometry: reproduce the classic papers on weight initialization and dynamical isometry.

Subpackages:
    init      initializers in torch.nn.init style plus a scheme registry
    theory    mean-field theory, free-probability spectra, linear dynamics, random walks
    measure   empirical counterparts measured on real networks
    models / engine   ensemble-aware networks and the batched training engine
    papers    one module per reproduced paper (experiments + figures)
"""

__version__ = "0.1.0"
