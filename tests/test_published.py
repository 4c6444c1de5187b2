"""Published constants: the values as printed, their sources, and the bibliography."""

import math
import pathlib
import re

import pytest

from scaling_lab import published as pub

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _groups():
    for name in dir(pub):
        obj = getattr(pub, name)
        if name.isupper() and hasattr(obj, "source"):
            yield name, obj


def test_pf_day():
    assert pub.PF_DAY == 8.64e19


def test_kaplan_table5_values():
    k = pub.KAPLAN2020
    assert (k.alpha_N, k.N_c) == (0.076, 8.8e13)
    assert (k.alpha_D, k.D_c) == (0.095, 5.4e13)
    assert (k.alpha_C_min, k.C_c_min) == (0.050, 3.1e8)
    assert (k.alpha_C, k.C_c) == (0.057, 1.6e7)
    assert (k.alpha_B, k.B_star) == (0.21, 2.1e8)
    assert (k.alpha_S, k.S_c) == (0.76, 2.1e3)


def test_kaplan_eq15_and_table6():
    j = pub.KAPLAN2020_ND
    assert (j.alpha_N, j.alpha_D, j.N_c, j.D_c) == (0.076, 0.103, 6.4e13, 1.8e13)
    t = pub.KAPLAN2020_ALLOCATION
    assert (t.N_e, t.p_N, t.B_e, t.p_B) == (1.3e9, 0.73, 2e6, 0.24)
    assert (t.S_e, t.p_S, t.D_e, t.p_D) == (5.4e3, 0.03, 2e10, 0.27)


def test_hoffmann_rounded_and_unrounded():
    h = pub.HOFFMANN2022_APPROACH3
    assert (h.E, h.A, h.B, h.alpha, h.beta) == (1.69, 406.4, 410.7, 0.34, 0.28)
    logs = pub.HOFFMANN2022_APPROACH3_UNROUNDED_LOGS
    assert (logs.log_A, logs.log_B, logs.log_E) == (6.0073404, 6.0179186, 0.5267228)
    assert (logs.alpha, logs.beta) == (0.33917084, 0.2849083)
    u = pub.HOFFMANN2022_APPROACH3_UNROUNDED
    assert u.A == math.exp(6.0073404) and u.E == math.exp(0.5267228)
    # rounding the unrounded fit gives the printed one
    assert round(u.A, 1) == 406.4 and round(u.B, 1) == 410.7 and round(u.E, 2) == 1.69


def test_hoffmann_table2():
    a = {e.method.split(":")[0]: (e.a, e.b) for e in pub.HOFFMANN2022_TABLE2}
    assert a["Approach 1"] == (0.50, 0.50)
    assert a["Approach 2"] == (0.49, 0.51)
    assert a["Approach 3"] == (0.46, 0.54)
    assert "10th-90th percentiles" in pub.HOFFMANN2022_TABLE2[0].source.note
    for e in pub.HOFFMANN2022_TABLE2:
        assert e.a + e.b == pytest.approx(1.0)


def test_hoffmann_table3():
    rows = pub.HOFFMANN2022_TABLE3
    assert len(rows) == 9
    assert (rows[0].params, rows[0].flops, rows[0].tokens) == (400e6, 1.92e19, 8.0e9)
    assert (rows[3].params, rows[3].flops, rows[3].tokens) == (67e9, 5.76e23, 1.5e12)
    assert (rows[-1].params, rows[-1].flops, rows[-1].tokens) == (10e12, 1.30e28, 216.2e12)
    for r in rows:  # the table is consistent with C = 6ND to its printed precision
        assert 6 * r.params * r.tokens == pytest.approx(r.flops, rel=0.05)


def test_besiroglu_and_muennighoff():
    b = pub.BESIROGLU2024
    assert (b.E, b.A, b.B, b.alpha, b.beta) == (1.8172, 482.01, 2085.43, 0.3478, 0.3658)
    # Table 1 of the paper, as printed (not the repository notebook's 124.5 / 1293 / ...)
    assert (b.se.A, b.se.B, b.se.E, b.se.alpha, b.se.beta) == (124.58, 1293.23, 0.03, 0.02, 0.02)
    assert b.source.key == "besiroglu2024" and b.source.where.startswith("Table 1")
    m = pub.MUENNIGHOFF2023
    assert (m.R_D_star, m.R_N_star, m.alpha, m.beta) == (15.387756, 5.309743, 0.3526596, 0.3526596)
    assert round(m.E, 3) == 1.869 and round(m.A) == 521 and round(m.B) == 1488


def test_sources_name_the_place_in_the_paper():
    assert pub.HOFFMANN2022_APPROACH3.source.where == "Appendix D.2, eq. 10"
    assert pub.MUENNIGHOFF2023.source.where.startswith("Appendix A, eq. 17")
    assert "Section 3" in pub.KAPLAN2020_RANGE.source.where
    assert pub.LLAMA3_8B.source.where.startswith("Section 1")
    assert "sum" in pub.HOFFMANN2022_HUBER_OBJECTIVE.note
    assert "besiroglu2024" in pub.HOFFMANN2022_HUBER_OBJECTIVE.note
    assert pub.HOFFMANN2022_KAPLAN_10X == (5.5, 1.8)
    assert pub.HOFFMANN2022_KAPLAN_10X_SOURCE.where.startswith("Section 1")


def test_chinchilla_shape_states_the_ffn_width():
    c = pub.CHINCHILLA
    assert c.d_ff == 4 * c.d_model == 32768
    assert "4 x d_model" in c.source.note
    assert "64.7B" in c.note and "does not explain" in c.note
    assert pub.CHINCHILLA_VOCAB_SHARED_WITH_GOPHER == 0.9415
    assert pub.CHINCHILLA_TOKENIZER_SOURCE.where == "Section 4.1"
    assert "NFKC" in pub.CHINCHILLA_TOKENIZER_SOURCE.note
    assert pub.GOPHER.vocab_size == 32000


def test_llama3_8b_shape_as_printed():
    r = pub.LLAMA3_8B
    assert (r.n_layer, r.d_model, r.n_head, r.n_kv_head, r.d_ff, r.vocab_size) == (
        32, 4096, 32, 8, 14336, 128000)
    assert r.tied_embeddings is False and pub.LLAMA3_8B_RELEASED_VOCAB == 128256


def test_hoffmann_bib_entry_is_the_arxiv_version():
    bib = (ROOT / "book" / "references.bib").read_text()
    entry = bib.split("{hoffmann2022,", 1)[1].split("\n}", 1)[0]
    head = bib.split("{hoffmann2022,", 1)[0].rsplit("@", 1)[1]
    assert head in ("misc", "article")
    assert "Training Compute-Optimal Large Language Models" in entry
    assert re.search(r"eprint\s*=\s*\{2203\.15556\}", entry)
    assert "booktitle" not in entry and "NeurIPS" not in entry
    assert "Neural Information Processing" not in entry


def test_models():
    assert (pub.CHINCHILLA.params, pub.CHINCHILLA.tokens) == (70e9, 1.4e12)
    assert (pub.CHINCHILLA.n_layer, pub.CHINCHILLA.d_model, pub.CHINCHILLA.n_head,
            pub.CHINCHILLA.vocab_size, pub.CHINCHILLA.n_ctx) == (80, 8192, 64, 32000, 2048)
    assert (pub.GOPHER.params, pub.GOPHER.tokens) == (280e9, 300e9)
    g = pub.GPT2_SMALL
    assert (g.n_layer, g.d_model, g.n_head, g.vocab_size, g.n_ctx) == (12, 768, 12, 50257, 1024)
    assert (pub.GPT3.params, pub.GPT3.tokens) == (175e9, 300e9)
    assert pub.LLAMA_65B.tokens == 1.4e12 and pub.LLAMA2_70B.tokens == 2e12
    assert pub.LLAMA3_8B.tokens == pub.LLAMA3_70B.tokens == 15e12
    assert (pub.LLAMA3_405B.params, pub.LLAMA3_405B.tokens) == (405e9, 15.6e12)


def test_later_work():
    assert (pub.PEARCE2024.coefficient, pub.PEARCE2024.exponent) == (47491, 1 / 3)
    assert [s.a for s in pub.PORIAN2024_REFINEDWEB] == [0.835, 0.706, 0.602, 0.571, 0.497]
    assert [s.label for s in pub.PORIAN2024_REFINEDWEB] == [
        "Reproducing Kaplan et al.", "Counting last layer FLOPs", "Correcting warmup",
        "Cosine decay", "Optimizer tuning (no decay)"]
    assert "careful learning rate decay is not essential" in pub.PORIAN2024_DECAY_NOT_ESSENTIAL
    assert "constant learning rate" in pub.PORIAN2024_SOURCE.note
    assert pub.HAGELE2024.key == "hagele2024" and pub.SARDANA2024.key == "sardana2024"


def test_every_group_cites_a_known_key():
    groups = list(_groups())
    assert len(groups) >= 15
    for name, obj in groups:
        assert obj.source.key in pub.BIBTEX_KEYS, name
        assert obj.source.where, name
    for t in (pub.PF_DAY_SOURCE, pub.HOFFMANN2022_TABLE3_SOURCE, pub.PORIAN2024_SOURCE,
              pub.HAGELE2024, pub.SARDANA2024):
        assert t.key in pub.BIBTEX_KEYS


def test_constants_are_frozen():
    with pytest.raises(AttributeError):
        pub.KAPLAN2020.alpha_N = 0.1  # type: ignore[misc]


def test_bib_has_every_key():
    bib = (ROOT / "book" / "references.bib").read_text()
    keys = re.findall(r"@\w+\{([^,]+),", bib)
    assert set(pub.BIBTEX_KEYS) <= set(keys), sorted(set(pub.BIBTEX_KEYS) - set(keys))
    for entry in ("\n" + bib).split("\n@")[1:]:
        key = entry.split("{", 1)[1].split(",", 1)[0]
        fields = ("title", "author", "year") + (("url",) if key in pub.BIBTEX_KEYS else ())
        for fieldname in fields:
            assert re.search(rf"^\s*{fieldname}\s*=", entry, re.M), (fieldname, key)


def test_schaeffer_and_gpt4_report():
    assert pub.SCHAEFFER2023.share_two_metrics == 0.92
    assert pub.OPENAI2023_GPT4.max_compute_ratio == 1e4
    assert pub.LLAMA3_8B.tokens / pub.LLAMA3_8B.params == 1875


def test_deepseek_hyperparameter_laws_as_printed():
    lr, b = pub.BI2024_LR, pub.BI2024_BATCH
    assert (lr.coefficient, lr.exponent) == (0.3118, -0.1250)
    assert (b.coefficient, b.exponent) == (0.2920, 0.3271)
    assert lr.source.key == b.source.key == "bi2024"
    assert lr.source.where.startswith("Section 3.1, eq. (1)")
    assert "non-embedding FLOPs per token" in lr.source.note and "C = M D" in lr.source.note


def test_deepseek_laws_reproduce_table2():
    # Table 2's learning rates and batch sizes were chosen from eq. 1 at C = M x 2T tokens, M the
    # non-embedding FLOPs per token of eq. 2: the laws give them back to a few per cent
    for name, tol_lr, tol_b in (("7B", 0.02, 0.03), ("67B", 0.03, 0.10)):
        r = pub.BI2024_TABLE2[name]
        M = pub.bi2024_flops_per_token(r["n_layer"], r["d_model"], r["n_ctx"])
        C = M * r["tokens"]
        assert float(pub.BI2024_LR(C)) == pytest.approx(r["lr"], rel=tol_lr)
        batch_tokens = r["batch_sequences"] * r["n_ctx"]
        assert float(pub.BI2024_BATCH(C)) == pytest.approx(batch_tokens, rel=tol_b)
    # eq. 2 at Table 3's 24 x 2048 model with l_seq 4096: M = 9.66B FLOPs per token
    assert pub.bi2024_flops_per_token(24, 2048, 4096) == pytest.approx(9.66e9, rel=0.005)
