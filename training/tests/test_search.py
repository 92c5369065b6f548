import json

from cardiotrain.search import main


def test_search_runs_and_reports(synth_export, tmp_path, capsys):
    out = tmp_path / "search.json"
    assert main([f"data.dir={synth_export}", "search.trials=2", "search.folds=2", "lgbm.max_rounds=20",
                 "lgbm.early_stopping=5", f"search.out={out}"]) == 0
    res = json.loads(out.read_text())
    assert res["trials"] == 2 and 0.0 <= res["best_f1"] <= 1.0
    assert "lgbm.num_leaves=" in capsys.readouterr().out
