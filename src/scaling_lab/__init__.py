"""scaling_lab: the computing half of *Scaling Laws, Hands-On*.

Layers (each imports only the ones above it):

1. ``published``  the papers' constants and tables, each with its bibtex key
2. ``laws``       functional forms as small frozen objects with ``loss(...)``
3. ``flops``      parameter and FLOP accounting for a GPT shape
4. ``fitting``    estimators returning result objects (fit, uncertainty, diagnostics)
5. ``lab``        offline corpora, a tiny GPT, training runs and resumable sweeps
6. ``plotting``, ``cli``
"""

__version__ = "0.1.0"
