"""Nothing in hyosan turns a file or a message from outside into code: no pickle, eval, exec,
marshal, shelve or unsafe YAML on anything a user may have been sent (docs/security.md)."""

from __future__ import annotations

import re
from pathlib import Path

import hyosan

PACKAGE = Path(hyosan.__file__).parent

#: What turns bytes into code or objects, as a regular expression each.
FORBIDDEN = {
    "pickle.load": r"\bpickle\.loads?\(",
    "cPickle/dill/cloudpickle": r"\b(?:cPickle|dill|cloudpickle)\.loads?\(",
    "allow_pickle=True": r"allow_pickle\s*=\s*True",
    "eval(": r"(?<![\w.])eval\(",
    "exec(": r"(?<![\w.])exec\(",
    "marshal": r"\bimport marshal\b|\bmarshal\.loads?\(",
    "shelve": r"\bimport shelve\b|\bshelve\.open\(",
    "yaml.load": r"\byaml\.(?:load|load_all|unsafe_load)\((?![^)]*SafeLoader)",
    "pandas.read_pickle": r"\bread_pickle\(",
    "torch.load / joblib.load": r"\b(?:torch|joblib)\.load\(",
}

#: The allowed hits, (file, pattern) -> why it is not code from outside.
ALLOWED = {
    ("compartmental/network.py", "eval("): (
        "evaluates the arithmetic expressions of ReactionNetwork declarations, which are Python "
        "code in compartmental/catalogue.py (no file or message reaches it), with no builtins"
    ),
}
# Not a grep hit, but said here: ensemble/executors.py hands tasks and outcomes between this
# process and its own worker processes through multiprocessing (which pickles them) or Dask;
# those bytes never come from outside (a store on disk is Parquet and JSON, read as data).


def hits() -> dict[tuple[str, str], list[int]]:
    found: dict[tuple[str, str], list[int]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for name, pattern in FORBIDDEN.items():
                if re.search(pattern, code):
                    found.setdefault((rel, name), []).append(number)
    return found


def test_no_loader_in_the_package_turns_bytes_into_code():
    found = hits()
    unexpected = {k: v for k, v in found.items() if k not in ALLOWED}
    assert not unexpected, f"code from data: {unexpected} (docs/security.md says why this is refused)"


def test_every_allowed_exception_is_still_there_and_explained():
    found = hits()
    for key, why in ALLOWED.items():
        assert key in found, f"{key} is no longer used: remove it from ALLOWED"
        assert len(why) > 40


def test_the_grep_would_catch_each_forbidden_call(tmp_path):
    samples = [
        "data = pickle.loads(payload)",
        "np.load(f, allow_pickle=True)",
        "x = eval(text)",
        "exec(code)",
        "import marshal",
        "db = shelve.open(p)",
        "yaml.load(text)",
        "frame = pd.read_pickle(p)",
    ]
    for sample in samples:
        assert any(re.search(p, sample) for p in FORBIDDEN.values()), sample
    for fine in ("yaml.load(text, Loader=yaml.SafeLoader)", "ast.literal_eval(x)", "loader.exec_module(m)"):
        assert not any(re.search(p, fine) for p in FORBIDDEN.values()), fine
