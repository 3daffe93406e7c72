"""A run's report as a few lines of text (what `keras-dec train` prints)."""

from __future__ import annotations


def format_summary(report: dict) -> str:
    """A few human-readable lines about a `train_dec` report.

    Examples:
        >>> print(format_summary({"n_samples": 100, "n_features": 4, "n_clusters": 3,
        ...                       "dec_iterations": 40, "converged": True,
        ...                       "seconds": {"pretrain": 1.25, "dec": 0.5}}))
        DEC on 100 x 4, 3 clusters: 40 iterations, converged (label change < tol)
          time: pretrain 1.2s, dec 0.5s
    """
    if report.get("recipe", {}).get("clustering") == "gmm":
        how = "a Gaussian mixture's posterior (no DEC steps)"
    else:
        how = (f"{report['dec_iterations']} iterations, "
               + ("converged (label change < tol)" if report["converged"]
                  else "stopped at max_iter"))
    lines = [f"DEC on {report['n_samples']} x {report['n_features']}, "
             f"{report['n_clusters']} clusters: {how}"]
    if "encoder_gradient_scale" in report:
        gain = report.get("manifold_gain")
        stretch = "" if gain is None else f"stretches the embedding {gain:.3g}x; "
        lines.append(f"  manifold head: {stretch}the encoder's gradient in DEC's steps is "
                     f"scaled by {report['encoder_gradient_scale']:.3g}")
    if report.get("empty_clusters"):
        lines.append(f"  warning: {report['empty_clusters']} of the {report['n_clusters']} "
                     "clusters are empty (the clusters collapsed); try a smaller --lr, "
                     "another seed, --clustering gmm or --manifold none")
    for key, name in (("kmeans_raw", "k-means (raw)"), ("autoencoder_kmeans", "AE + k-means"),
                      ("dec", "DEC")):
        if key in report:
            m = report[key]
            lines.append(f"  {name:14s} ACC {m['acc']:.4f}  NMI {m['nmi']:.4f}  ARI {m['ari']:.4f}")
    lines.extend(label_free_lines(report.get("label_free", {})))
    if "ensemble" in report:
        lines.extend(ensemble_lines(report["ensemble"]))
    times = ", ".join(f"{k} {v:.1f}s" for k, v in report["seconds"].items())
    lines.append(f"  time: {times}")
    if report.get("resumed"):
        lines.append(f"  ({report['resumed']})")
    return "\n".join(lines)


def ensemble_lines(ensemble: dict) -> list[str]:
    """An ensemble's choice in words: which run, why, and how much the runs agree.

    Examples:
        >>> for line in ensemble_lines({"n_runs": 3, "why": "run 1 (seed 1) agrees most",
        ...                             "stability_text": "It agrees 0.90 ARI.",
        ...                             "runs": [{"dec": {"acc": 0.8}}, {"dec": {"acc": 0.9}},
        ...                                      {"dec": {"acc": 0.7}}]}):
        ...     print(line)
          ensemble of 3 runs: run 1 (seed 1) agrees most
          It agrees 0.90 ARI.
          runs' ACC (labels, not used to choose): 0.8000 0.9000 0.7000
    """
    lines = [f"  ensemble of {ensemble['n_runs']} runs: {ensemble['why']}",
             f"  {ensemble['stability_text']}"]
    accs = [run["dec"]["acc"] for run in ensemble["runs"] if "dec" in run]
    if accs:
        lines.append("  runs' ACC (labels, not used to choose): "
                     + " ".join(f"{a:.4f}" for a in accs))
    return lines


# The silhouette difference below which the summary calls two clusterings even.
SILHOUETTE_MARGIN = 0.01


def label_free_lines(label_free: dict) -> list[str]:
    """The label-free indices per method and space, and one plain verdict on DEC.

    Examples:
        >>> label_free_lines({"embedding": {"dec": {"silhouette": 0.5}}})
        ["  DEC            silhouette 0.500 in DEC's embedding"]

    Each space favours one side: DEC's embedding is where DEC sharpened its
    clusters, the input features are where k-means minimised its spread. The
    verdict says DEC did better (or worse) than k-means only when its
    silhouette is ahead (or behind) by more than `SILHOUETTE_MARGIN` in both.
    """
    names = {"kmeans_raw": "k-means (raw)", "autoencoder_kmeans": "AE + k-means", "dec": "DEC"}
    where = {"embedding": "DEC's embedding", "features": "the input features"}
    lines = []
    for key, name in names.items():
        cells = []
        for space, label in where.items():
            m = label_free.get(space, {}).get(key)
            if m and m["silhouette"] is not None:
                cells.append(f"{m['silhouette']:.3f} in {label}")
        if cells:
            lines.append(f"  {name:14s} silhouette {', '.join(cells)}")
    gaps = []
    for space in where:
        dec = label_free.get(space, {}).get("dec")
        raw = label_free.get(space, {}).get("kmeans_raw")
        if dec and raw and dec["silhouette"] is not None and raw["silhouette"] is not None:
            gaps.append(dec["silhouette"] - raw["silhouette"])
    if len(gaps) == 2:
        if min(gaps) > SILHOUETTE_MARGIN:
            text = "DEC's clusters are better separated than k-means' in both spaces"
        elif max(gaps) < -SILHOUETTE_MARGIN:
            text = "DEC's clusters are less well separated than k-means' in both spaces"
        else:
            text = (f"no clear evidence either way (silhouette gaps {gaps[0]:+.3f} and "
                    f"{gaps[1]:+.3f}; each space favours its own method)")
        lines.append(f"  Without labels: {text}.")
    return lines
