"""RUN_DIR/eval/report.md from the metrics of `eval.pipeline.evaluate`.

Every number of metrics.json appears in a section below, and every figure and sound is
linked relative to the report's folder. `SECTIONS` lists the section headings in order.
"""

from __future__ import annotations

from eval import baselines, organization
from eval.embeddings.registry import EMBEDDING_MODELS, TORCH_EXTRA_MESSAGE
from eval.embeddings.weights import DEFAULT_DIR, ENV_VAR, KNOWN_WEIGHTS
from vae.diagnostics import ACTIVE_UNIT_VARIANCE
from eval.tables import Column, clustering_table, fad_table, format_value, l1_table, markdown_table, mse_table

SECTIONS = ("Run", "Against baselines", "Does the latent space organize sound?", "Settings", "FAD", "Spectral metrics",
            "Latent space", "Cluster spectra", "Latent interpolation", "Original vs reconstruction", "Timings", "Memory", "Files")


def _kv_table(items: dict, key_header: str = "setting", value_header: str = "value") -> str:
    rows = [(str(k), [format_value(v) if not isinstance(v, (dict, list, tuple)) else str(v)]) for k, v in items.items()]
    return markdown_table(key_header, [Column(value_header)], rows)


def _link(path: str) -> str:
    return f"[{path.rsplit('/', 1)[-1]}]({path})"


def _image(path: str, alt: str) -> str:
    return f"![{alt}]({path})"


def _case(m: dict) -> str:
    run = m["run"]
    if run["case"]:
        return run["case"]
    objective = run.get("objective")  # Evaluations before the timbre family did not record it.
    if objective:
        return f"the {objective} objective ({run['scale']})"
    return f"{run['loss']}/{run['feature']} ({run['scale']})"


def _run(m: dict) -> list[str]:
    run = m["run"]
    items = {"directory": run["dir"], "case": run["case"], "objective": run.get("objective"),
             "encoder reads": run.get("encoder_reads"), "scale": run["scale"],
             "checkpoint": f"{run['checkpoint']} (step {run['step']})",
             "spectral loss": run["loss"] if run.get("spectral_term", True) else "none (no spectral term)",
             "loss feature": run["feature"], "synth head": run["synth_head"], "latent dim": run["latent_dim"],
             "sample rate (Hz)": run["sample_rate_hz"], "sound length (s)": run["seconds"],
             "samples per sound": run["n_samples"], "noise seed": run["noise_seed"],
             "dataset": run["dataset"]["path"],
             "train / val / test patches": " / ".join(str(run["dataset"][s]) for s in ("train", "val", "test"))}
    return ["## Run", "", _kv_table(items)]


def _baselines(m: dict) -> list[str]:
    b = m.get("baselines")
    lines = ["## Against baselines", ""]
    if b is None:
        return lines + ["Not computed (an evaluation from before baselines existed)."]
    lines += ["The same metrics, on the same test patches, for what a model that learned nothing gives: "
              + "; ".join(f"**{k}**: {v}" for k, v in b["descriptions"].items())
              + ". Lower is better except where no direction applies (loudness).", "",
              markdown_table("metric", [Column(c) for c in (*baselines.COLUMNS, "verdict")], baselines.table_rows(b)),
              ""]
    p = b["parameters"]
    lines += [f"Latent space: {p['model']['active_units']} of {m['run']['latent_dim']} latent units active "
              f"(Var over test patches of the encoder mean > {ACTIVE_UNIT_VARIANCE}; untrained encoder: "
              f"{p['untrained']['active_units']}), total KL {p['model']['kl_total']:.3g} nats. The best linear code of "
              f"the same width (PCA) reaches a parameter error of {p['linear_code']['param_error']:.4g}."]
    per, per_mean = p["model"]["per_param"], p["mean_patch"]["per_param"]
    better = sum(1 for a, c in zip(per, per_mean) if a < 0.9 * c)
    lines += [f"{better} of {len(per)} parameters are reconstructed with less than 0.9x the mean patch's error. "
              "KL per latent dimension (nats): " + ", ".join(f"{v:.2f}" for v in p["model"]["kl_per_dim"]) + ".", "",
              "<details><summary>Squared error of each parameter (mean over test patches) beside the mean "
              "patch's</summary>", "",
              markdown_table("parameter", [Column("model"), Column("mean patch"), Column("model / mean patch")],
                             [(str(name), [a, c, a / c if c > 0 else None])
                              for name, a, c in zip(p.get("names", range(len(per))), per, per_mean)]),
              "", "</details>"]
    if "clustering" in b:
        c = b["clustering"]
        rows = [(name, [c[name]["n_clusters"], c[name]["n_noise"], c[name]["dbcv"]])
                for name in ("raw_parameters", "untrained_encoder")]
        model = m["clustering"]
        rows.insert(0, ("model's latent means", [model["n_clusters"], model["n_noise"], model["dbcv"]]))
        lines += ["", "Clustering, same points and settings:", "",
                  markdown_table("points clustered", [Column("clusters"), Column("noise"), Column("DBCV")], rows)]
    return lines


def _organization(m: dict) -> list[str]:
    lines = ["## Does the latent space organize sound?", ""]
    rec = m.get("organization")
    if rec is None or "neighbours" not in rec:
        return lines + [f"Not measured ({(rec or {}).get('status', 'an evaluation from before this measure')})."]
    lines += [f"For each of {rec['n_sounds']} test sounds, its {rec['k']} nearest neighbours in each embedding: the "
              f"mean log-spectral distance (LSD) of {rec['random_pairs']} random pairs ({rec['random_lsd']:.4g}) over "
              "the mean LSD to the neighbours. 1: neighbours sound no closer than random pairs; higher: similar "
              "sounds sit together. The model's row is its encoder means; the others are baselines on the same "
              "sounds.", "",
              markdown_table("embedding", [Column("neighbour ratio", "max", "{:.3f}"), Column("neighbour LSD", "min",
                                                                                               "{:.4g}")],
                             organization.neighbour_rows(rec)), ""]
    p = rec["paths"]
    lines += [f"Latent paths: {p['n']} straight paths between test sounds' codes in {p['steps']} steps, decoded and "
              "rendered; the summed LSD of consecutive steps over the end points' LSD (1: the sound moves steadily) "
              "and the largest step's share of the path, beside straight paths in parameter space between the same "
              "decoded ends.", "",
              markdown_table("path", [Column("path / end-point LSD", "min", "{:.3f}"),
                                      Column("largest step share", "min", "{:.3f}")],
                             [(name, [p[name]["path_over_ends"], p[name]["largest_step_share"]])
                              for name in ("model", "parameters")])]
    margin = organization.reconstruction_margin(m.get("baselines"))
    if margin:
        lines += ["", f"Reconstructions: LSD {margin['model']:.4g} against {margin['mean_patch']:.4g} for the mean "
                      f"patch ({margin['nearer']:+.1%} nearer the targets) and {margin['shuffled']:.4g} for shuffled "
                      "sounds."]
    return lines


def _settings(m: dict) -> list[str]:
    s, sets = m["settings"], m["sets"]
    items = {"test patches evaluated": f"{sets['test']['n']} of {sets['test']['of']}"
             + (f" (first {s['test_limit']}, --test-limit)" if s["test_limit"] else ""),
             "training subset for FAD": f"{sets['train_subset']['n']} of {sets['train_subset']['of']} "
                                        f"(fraction {s['train_fraction']}, seed {sets['train_subset']['seed']})",
             "batch size (patches rendered at once)": s["batch_size"],
             "FAD": m["fad"]["status"], "weights dir": s["weights_dir"], "download missing weights": s["download"],
             **{f"seed: {k}": v for k, v in s["seeds"].items()}}
    return ["## Settings", "", _kv_table(items)]


def _fad(m: dict) -> list[str]:
    fad, lines = m["fad"], ["## FAD", ""]
    lines.append("Fréchet Audio Distance between the ground-truth and the reconstructed sounds (thesis Tables "
                 "5.2/5.6/5.10), from VGGish (128-d per 0.96 s, no PCA) and PANNs Cnn14_16k (2048-d per clip) "
                 "embeddings at 16 kHz and CDPAM's acoustic embedding (512-d per clip, 22.05 kHz); lower is better. "
                 f"At most {m['settings'].get('fad_sounds') or 'all'} sounds per set (`--fad-sounds`).")
    lines.append("")
    if fad["scores"]:
        lines += [fad_table({_case(m): m}), ""]
        if "baselines" in fad:
            lines += ["Test-set FAD beside its baselines, against the same test originals: the **mean patch**'s "
                      "sounds (a collapsed model) and **other real sounds** (the training subset's originals: the "
                      "floor that finite sets of the same distribution reach).", "",
                      markdown_table("network", [Column("model"), Column("mean patch"), Column("other real sounds")],
                                     [(EMBEDDING_MODELS[name].title,
                                       [score, fad["baselines"]["mean_patch"].get(name),
                                        fad["baselines"]["other_real_sounds"].get(name)])
                                      for name, score in fad["scores"]["test"].items()]), ""]
        rows = fad.get("embedding_rows", {})
        lines.append("Embedding rows: " + "; ".join(f"{s}: " + ", ".join(f"{k} {v}" for k, v in r.items())
                                                    for s, r in rows.items()) + ".")
        if m["run"]["seconds"] < m["settings"]["fad_min_seconds"]:
            lines.append(f"Sounds of {m['run']['seconds']} s were zero-padded to {m['settings']['fad_min_seconds']} s "
                         "before the VGGish and PANNs embeddings (both need about one second; CDPAM takes them as "
                         "they are).")
        lines.append("")
    if fad["status"].startswith("disabled"):
        lines.append("**FAD was not computed: disabled with `--no-fad`.** Run without it to compute FAD.")
    if fad["skipped"]:
        lines.append(f"**FAD was skipped for: {', '.join(fad['skipped'])}** (see why below). "
                     "The rest of the evaluation ran. Messages:")
        lines.append("")
        lines += [f"- {name}: `{message}`" for name, message in fad["skipped"].items()]
        lines.append("")
        missing = [name for name, message in fad["skipped"].items() if message != TORCH_EXTRA_MESSAGE]
        if len(missing) < len(fad["skipped"]):
            lines.append("To enable it, install the torch extra: `pip install -e '.[torch]'`.")
        files = [KNOWN_WEIGHTS[k] for name in missing for k in EMBEDDING_MODELS[name].weights]
        if files:
            lines.append("To enable it, put " + ", ".join(f"`{w.filename}` ({w.url})" for w in files)
                         + f" in a folder and pass `--weights-dir FOLDER`, or set `{ENV_VAR}`, or use the default "
                         f"`{DEFAULT_DIR}`; with network access the files are fetched there automatically "
                         "(unless `--no-download`).")
    return lines


def _spectral(m: dict) -> list[str]:
    sp, files = m["spectral"], m["files"]
    case = _case(m)
    lines = ["## Spectral metrics", "",
             f"On the {sp['n']} evaluated test sounds (thesis Tables 5.3/5.7/5.11). MSE is Eq. 2.15 over all feature "
             "elements of all sounds; L1 is Eq. 2.16 per sound (the sum of absolute differences over that sound's "
             "feature), kept as a distribution. Lower is better.", "",
             mse_table({case: m}), "", l1_table({case: m}), "",
             "Feature settings (`spectral.features`, JAX, the run's `loss.feature_config`):", ""]
    rows = [(name, [", ".join(f"{k}={v}" for k, v in settings.items())]) for name, settings in sp["settings"].items()]
    lines += [markdown_table("feature", [Column("settings")], rows), ""]
    lines += [_image(files["fig_l1"], "L1 distributions"), "",
              "Per-example values: " + ", ".join(_link(p) for p in sp["files"].values())
              + f"; test indices: {_link(files['test_indices'])}."]
    return lines


def _latent(m: dict) -> list[str]:
    c, files = m["clustering"], m["files"]
    lines = ["## Latent space", ""]
    if c["status"] != "computed":
        return lines + [f"Clustering {c['status']}."]
    cfg = c["config"]
    lines += [f"Encoder means of {c['n_points']} training patches (fraction {c['fraction']}, seed "
              f"{c['seed_subset']}) -> UMAP (n_neighbors {cfg['n_neighbors']}, min_dist {cfg['min_dist']}, "
              f"{cfg['n_components']}-D, {cfg['metric']}, random_state {cfg['seed']}) -> DBSCAN (eps {cfg['eps']}, "
              f"min_samples {cfg['min_samples']}) -> DBCV (thesis Tables 5.4/5.8/5.12)."
              + (f" n_neighbors was lowered from {c['requested_n_neighbors']} to {cfg['n_neighbors']} (fewer points)."
                 if c["requested_n_neighbors"] != cfg["n_neighbors"] else ""), "",
              clustering_table({_case(m): m}), ""]
    if "fig_umap" in files:
        lines += [_image(files["fig_umap"], "UMAP, plain and clustered"), ""]
    arrays = ("cluster_indices", "cluster_mu", "umap", "labels")
    lines.append("Arrays: " + ", ".join(_link(files[k]) for k in arrays) + ".")
    return lines


def _clusters(m: dict) -> list[str]:
    lines = ["## Cluster spectra", ""]
    info = m["examples"].get("clusters", {})
    if "figure" not in info:
        return lines + ["No clusters to show" + (" (DBSCAN found none)." if "clusters" in info else ".")]
    lines += ["Average FFT magnitude of medium-sized clusters (sizes between the 1/3 and 2/3 quantiles, drawn at "
              "random) and their places on the map (thesis Fig. 5.9).", "",
              _image(info["figure"], "cluster spectra"), ""]
    for c in info["clusters"]:
        lines.append(f"- cluster {c['cluster']} ({c['size']} sounds, {c['averaged']} averaged): "
                     + ", ".join(_link(w) for w in c["wavs"]))
    return lines


def _interpolation(m: dict) -> list[str]:
    lines = ["## Latent interpolation", ""]
    info = m["examples"].get("interpolation")
    if not info:
        return lines + ["Needs at least two test sounds."]
    a, b = info["test_indices"]
    lines += [f"Test sounds {a} and {b} encoded, {info['steps']} linear steps between their means, decoded and "
              "rendered (thesis Figs. 5.4-5.5).", ""]
    lines += [_image(f, "interpolation") for f in info["figures"]]
    lines += ["", "Sounds: " + ", ".join(_link(w) for w in info["wavs"].values()) + "."]
    return lines


def _reconstructions(m: dict) -> list[str]:
    lines = ["## Original vs reconstruction", "",
             "Overlaid waveforms and both spectrograms (thesis Figs. 5.6-5.8).", ""]
    for ex in m["examples"].get("reconstructions", []):
        l1 = ", ".join(f"{k[3:].upper()} L1 {format_value(v)}" for k, v in ex.items() if k.startswith("l1_"))
        lines += [f"### Test sound {ex['test_index']}", "", f"{l1}. Sounds: "
                  + ", ".join(_link(w) for w in ex["wavs"].values()) + ".", "",
                  _image(ex["figure"], f"test sound {ex['test_index']}"), ""]
    return lines


def _timings(m: dict) -> list[str]:
    t = m["timings_s"]
    rows = [(stage, [seconds]) for stage, seconds in t.items()] + [("total", [sum(t.values())])]
    return ["## Timings", "", "Wall-clock seconds per stage (writing this report is timed in metrics.json).", "",
            markdown_table("stage", [Column("seconds", fmt="{:.2f}")], rows)]


def _memory(m: dict) -> list[str]:
    mem = m["memory"]
    lines = ["## Memory", "",
             f"Audio is streamed: at most one batch of ground-truth and reconstructed sounds is held "
             f"({mem['audio_batch_mib']:.3g} MiB), instead of {mem['test_audio_if_held_whole_mib']:.3g} MiB for the "
             "whole test set. Kept: per-example errors, patches and latents"]
    if mem["embeddings_mib"]:
        lines[-1] += ", and the FAD embeddings (" + ", ".join(f"{k} {v:.3g} MiB" for k, v in
                                                              mem["embeddings_mib"].items()) + ")"
    lines[-1] += "."
    return lines


def _files(m: dict) -> list[str]:
    return ["## Files", "", "\n".join(f"- {k}: {_link(v)}" for k, v in sorted(m["files"].items()))]


def markdown(m: dict) -> str:
    """The report of one evaluation's metrics (as `eval.pipeline.evaluate` returns them)."""
    parts = [f"# Evaluation of {_case(m)}", "", f"**Verdict:** {baselines.verdict_sentence(m.get('baselines'))}", "",
             f"`{m['run']['dir']}`, {m['run']['checkpoint']} checkpoint. All numbers are also in "
             f"[metrics.json](metrics.json).", ""]
    for section in (_run, _baselines, _organization, _settings, _fad, _spectral, _latent, _clusters, _interpolation, _reconstructions, _timings,
                    _memory, _files):
        parts += section(m) + [""]
    return "\n".join(parts)
