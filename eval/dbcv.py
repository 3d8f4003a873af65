"""Density-Based Clustering Validation (DBCV; Moulavi et al. 2014, SDM) in linear memory.

Definition (thesis Eqs. 2.12-2.13), for clusters C_i of points in R^d:

* all-points core distance of o in C_i:
  a(o) = ( sum_{p in C_i, d(o,p) > 0} d(o,p)^-d / (|C_i| - 1) )^(-1/d);
* mutual reachability: mr(o, p) = max(d(o, p), a(o), a(p));
* CDS(C_i), density sparseness: the largest edge of the mutual-reachability
  MST of C_i restricted to its internal vertices (degree > 1) and the edges
  between them (all edges if there is none);
* PCDS(C_i, C_j), density separation: the smallest mr between internal
  vertices of C_i and of C_j;
* V(C_i) = (min_j PCDS - CDS) / max(min_j PCDS, CDS);
* DBCV = sum_i |C_i| / |O| V(C_i), with |O| counting every point, noise
  included: noise (label -1) takes no part in any distance and lowers the score
  by the fraction of points left unclustered.

This reproduces `hdbscan.validity.validity_index` (hdbscan 0.8.44) including its
choices: d is the dimension of the data; distances of 0 (duplicates) are left out of
the core-distance sum but not of |C_i| - 1; the MST is Prim's from the cluster's
first point, with hdbscan's re-attachment of each new vertex to the smallest-index
tree vertex whose mr distance matches the edge weight (np.isclose); a single
cluster gives NaN (no separation; hdbscan computes inf/inf), and no cluster gives 0.
Differences: clusters of one point (where hdbscan raises) are counted as noise, with
a warning; only metrics known to `scipy.spatial.distance.cdist` are accepted.

Memory: hdbscan holds several dense |C| x |C| float64 matrices per cluster; here the MST is Prim's with
each mutual-reachability row computed on the fly and the other quantities in row blocks of at most
`block_elements` entries, so peak memory is O(n) plus a few blocks whatever the cluster sizes
(measured against hdbscan: benchmarks/RESULTS.md, "DBCV memory").
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
from scipy.spatial.distance import cdist

# Default block of the chunked distance computations: 2**20 float64 = 8 MiB per array.
BLOCK_ELEMENTS = 2 ** 20


@dataclasses.dataclass(frozen=True)
class DBCVResult:
    """DBCV of a clustering and its per-cluster parts (arrays are [k], in `cluster_ids` order)."""

    score: float
    cluster_ids: np.ndarray
    validity: np.ndarray
    sparseness: np.ndarray
    separation: np.ndarray
    sizes: np.ndarray


def _row_blocks(n_rows: int, n_cols: int, block_elements: int):
    """Slices of at most block_elements // n_cols rows (at least one) covering range(n_rows)."""
    step = max(1, block_elements // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def core_distances(x: np.ndarray, metric: str = "euclidean", block_elements: int = BLOCK_ELEMENTS) -> np.ndarray:
    """All-points core distance [m] of each point of one cluster x [m, d], m >= 2."""
    m, dim = x.shape
    out = np.empty(m)
    for rows in _row_blocks(m, m, block_elements):
        dist = cdist(x[rows], x, metric)
        positive = dist > 0
        # Scale by the nearest non-duplicate distance so that d(o,p)^-dim cannot overflow.
        nearest = np.where(positive, dist, np.inf).min(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(positive, nearest[:, None] / dist, 0.0)
            mean = (ratio ** dim).sum(axis=1) / (m - 1)
            out[rows] = nearest * mean ** (-1.0 / dim)
    if not np.isfinite(out).any():  # every point coincides: hdbscan's all-zero case
        return np.zeros(m)
    return out


def _mutual_reachability_row(x: np.ndarray, core: np.ndarray, i: int, metric: str) -> np.ndarray:
    """mr(x_i, x_j) for all j (the diagonal entry is core[i])."""
    return np.maximum(np.maximum(cdist(x[i:i + 1], x, metric)[0], core[i]), core)


def internal_mst(x: np.ndarray, core: np.ndarray, metric: str = "euclidean") -> tuple[np.ndarray, float]:
    """Internal vertices [v] of the mutual-reachability MST of one cluster and its density sparseness."""
    m = x.shape[0]
    in_tree = np.zeros(m, dtype=bool)
    best = np.full(m, np.inf)
    parents = np.empty(m - 1, dtype=np.intp)
    children = np.empty(m - 1, dtype=np.intp)
    weights = np.empty(m - 1)
    current = 0
    row = _mutual_reachability_row(x, core, current, metric)
    for step in range(m - 1):
        in_tree[current] = True
        np.minimum(best, row, out=best, where=~in_tree)
        candidates = np.where(in_tree, np.inf, best)
        new = int(np.argmin(candidates))
        weight = candidates[new]
        new_row = _mutual_reachability_row(x, core, new, metric)
        if step == 0:
            parent = 0
        else:  # hdbscan re-attaches to the smallest tree vertex at (np.isclose) the edge weight
            matches = np.flatnonzero(in_tree & np.isclose(new_row, weight))
            parent = int(matches[0]) if matches.size else current
        parents[step], children[step], weights[step] = parent, new, weight
        current, row = new, new_row

    degree = np.bincount(np.concatenate([parents, children]), minlength=m)
    internal = np.flatnonzero(degree > 1)
    if internal.size == 0:
        internal = np.array([0], dtype=np.intp)
    is_internal = np.zeros(m, dtype=bool)
    is_internal[internal] = True
    internal_edges = is_internal[parents] & is_internal[children]
    sparseness = weights[internal_edges].max() if internal_edges.any() else weights.max()
    return internal, float(sparseness)


def min_separation(points: np.ndarray, core: np.ndarray, cluster: np.ndarray, n_clusters: int,
                   metric: str = "euclidean", block_elements: int = BLOCK_ELEMENTS) -> np.ndarray:
    """min_j PCDS(C_i, C_j) [k] from internal vertices points [m, d], their core distances [m] and
    cluster indices [m] in range(k); inf for a cluster with no other cluster."""
    per_point = np.full(points.shape[0], np.inf)
    for rows in _row_blocks(points.shape[0], points.shape[0], block_elements):
        mr = cdist(points[rows], points, metric)
        np.maximum(mr, core[rows, None], out=mr)
        np.maximum(mr, core[None, :], out=mr)
        mr[cluster[rows, None] == cluster[None, :]] = np.inf
        per_point[rows] = mr.min(axis=1)
    separation = np.full(n_clusters, np.inf)
    np.minimum.at(separation, cluster, per_point)
    return separation


def dbcv_details(points: np.ndarray, labels: np.ndarray, metric: str = "euclidean",
                 block_elements: int = BLOCK_ELEMENTS) -> DBCVResult:
    """DBCV of `labels` [n] (-1 = noise) on `points` [n, d], with per-cluster validity,
    sparseness, separation and size."""
    points = np.asarray(points, dtype=np.float64)
    labels = np.asarray(labels)
    if points.ndim != 2 or labels.shape != (points.shape[0],):
        raise ValueError(f"need points [n, d] and labels [n], got {points.shape} and {labels.shape}")
    ids, sizes = np.unique(labels[labels >= 0], return_counts=True)
    if np.any(sizes == 1):
        warnings.warn(f"DBCV: {int(np.sum(sizes == 1))} single-point cluster(s) counted as noise",
                      RuntimeWarning)
        ids, sizes = ids[sizes > 1], sizes[sizes > 1]
    k = ids.size

    sparseness = np.empty(k)
    internal_points, internal_core, internal_cluster = [], [], []
    for index, cluster_id in enumerate(ids):
        x = points[labels == cluster_id]
        core = core_distances(x, metric, block_elements)
        internal, sparseness[index] = internal_mst(x, core, metric)
        internal_points.append(x[internal])
        internal_core.append(core[internal])
        internal_cluster.append(np.full(internal.size, index, dtype=np.intp))

    if k:
        separation = min_separation(np.concatenate(internal_points), np.concatenate(internal_core),
                                    np.concatenate(internal_cluster), k, metric, block_elements)
    else:
        separation = np.empty(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        validity = (separation - sparseness) / np.maximum(separation, sparseness)
    score = float(np.sum(sizes / points.shape[0] * validity))
    return DBCVResult(score=score, cluster_ids=ids, validity=validity, sparseness=sparseness,
                      separation=separation, sizes=sizes)


def dbcv(points: np.ndarray, labels: np.ndarray, metric: str = "euclidean") -> float:
    """DBCV score in [-1, 1] (higher is better) of `labels` [n] (-1 = noise) on `points` [n, d]."""
    return dbcv_details(points, labels, metric).score
