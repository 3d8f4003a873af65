"""The timbre explorer: a local web page to see, hear, walk and export a trained run's latent space.

    explorer = Explorer.open("runs/demo", ExplorerConfig())   # map, renderer (jit warmed), sound cache
    app = create_app(explorer)                                 # FastAPI app: the page and the JSON API
    serve(app, "127.0.0.1", 8000)                              # what scripts/explore.py runs

Files, one concept each: `config` (ExplorerConfig), `space` (the 2-D map of training latents, its
clusters, and the k-NN mappings between map and latent space), `measures` (the map points' sound
descriptors, `spectral.descriptors`, and the sliders' names), `patches` (main parameters in physical units), `sound` (decode + jaxsynth render, WAV bytes), `cache` (rendered sounds by id, bounded), `requests` (validation of what clients send),
`state` (Explorer: everything a route does, as plain functions of the request's data), `server`
(routes, errors as JSON, rendering in worker threads), `serve` (uvicorn in the foreground or in a
thread), `cli` (scripts/explore.py), `static/` (the page: hand-written canvas, no external assets).
"""

from explorer.config import ExplorerConfig
from explorer.server import create_app
from explorer.serve import ServerThread, serve
from explorer.state import Explorer

__all__ = ["Explorer", "ExplorerConfig", "ServerThread", "create_app", "serve"]
