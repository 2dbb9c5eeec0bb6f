"""The review wall on real repositories: each pass tripped by a change made to trip it, a clean change passing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omk_tui.models.gates import GateResult
from omk_tui.models.tasks import Task
from omk_tui.review.agent_review import AgentReviewer, agent_reviewers_enabled, parse_verdict
from omk_tui.review.wall import review_change
from tests.support.delivery_goal import commit_file, git

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "r"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    commit_file(r, "src/app.py", "def add(a, b):\n    return a + b\n", "app")
    commit_file(r, "tests/test_app.py", "from src.app import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\n"
                "def test_add_zero():\n    assert add(0, 0) == 0\n", "tests")
    commit_file(r, "requirements.txt", "requests==2.31\n", "deps")
    return r


def write(repo: Path, rel: str, text: str) -> None:
    p = repo / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


TASK = Task(id="t1", title="add subtract", write_set=["src", "tests"])


async def wall(repo: Path, head=None, **kw):
    kw.setdefault("tasks", [TASK])
    return await review_change(repo, "HEAD" if head is None else "HEAD~1", head, scope="s1", **kw)


async def test_clean_change_passes_all_six(repo: Path, tmp_path: Path):
    write(repo, "src/app.py", "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n")
    write(repo, "tests/test_app.py", (repo / "tests/test_app.py").read_text() + "\n\ndef test_sub():\n    assert True\n")
    w = await wall(repo, reviews_dir=tmp_path / "reviews")
    assert [r.kind for r in w.results] == ["architect", "code", "test", "security", "performance", "anti_slop"]
    assert all(r.passed for r in w.results), [r.feedback for r in w.results]
    assert not w.blocking and w.anti_slop_confidence == 0.0
    stored = json.loads((tmp_path / "reviews" / "s1.json").read_text())
    assert stored["passed"] is True and len(stored["results"]) == 6 and stored["results"][0]["scope"] == "s1"


async def test_committed_change_is_read_between_commits(repo: Path):
    commit_file(repo, "src/app.py", "def add(a, b):\n    return a + b\nAWS = 'AKIAABCDEFGHIJKLMNOP'\n", "leak")
    w = await review_change(repo, "HEAD~1", "HEAD", scope="goal")
    assert not w.result("security").passed
    assert w.head == git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize("line", [
    'token = "ghp_' + "a" * 36 + '"',
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    'SLACK = "xoxb-1234567890-abcdefghij"',
    'client = OpenAI(api_key="sk-proj-' + "A1b2" * 6 + '")',
    'DB_PASSWORD = "s3cr3t-Pa55w0rd-long-enough"',
    'let api_token = "zq8Xv2Lm9Np4Rt7Yw1Ks";',
])
async def test_security_catches_secrets(repo: Path, line: str):
    write(repo, "src/config.py", line + "\n")
    w = await wall(repo)
    sec = w.result("security")
    assert not sec.passed and sec.severity == "critical"
    assert "src/config.py:1" in sec.feedback
    assert w.blocking


async def test_security_placeholder_and_env_lookup_pass(repo: Path):
    write(repo, "src/config.py", 'import os\nAPI_KEY = os.environ["API_KEY"]\nEXAMPLE = "password = \'your-password-here-xx\'"\n')
    assert (await wall(repo)).result("security").passed


async def test_security_large_file(repo: Path):
    write(repo, "src/blob.txt", "x" * (600 * 1024))
    sec = (await wall(repo)).result("security")
    assert not sec.passed and "over 512 KiB" in sec.feedback


async def test_architect_scope_and_new_dependency(repo: Path):
    write(repo, "docs/notes.md", "hello\n")
    write(repo, "requirements.txt", "requests==2.31\nleftpad>=1\n")
    arch = (await wall(repo)).result("architect")
    assert not arch.passed
    assert any("docs/notes.md" in f and "outside the declared write scope" in f for f in arch.findings)
    assert any("'leftpad'" in f for f in arch.findings)


async def test_scope_violations_warn_reports_medium_and_does_not_block(repo: Path):
    write(repo, "docs/notes.md", "hello\n")
    w = await wall(repo, scope_violations="warn")
    arch = w.result("architect")
    assert arch.passed and arch.severity == "medium" and not w.blocking
    assert any("docs/notes.md" in f and "[medium]" in f and "scope_violations" in f for f in arch.findings)
    blocked = await wall(repo)  # the default, "block"
    assert not blocked.result("architect").passed and blocked.result("architect").severity == "high"


def test_scope_violations_config_is_validated(tmp_path: Path):
    from omk_tui.config import ConfigError, load_config

    (tmp_path / ".omk").mkdir()
    cfg = tmp_path / ".omk" / "config.toml"
    assert load_config(tmp_path).review.scope_violations == "block"
    cfg.write_text('[review]\nscope_violations = "warn"\n')
    assert load_config(tmp_path).review.scope_violations == "warn"
    cfg.write_text('[review]\nscope_violations = "ignore"\n')
    with pytest.raises(ConfigError, match="review.scope_violations"):
        load_config(tmp_path)


async def test_architect_new_dependency_alone_is_medium(repo: Path):
    write(repo, "package.json", json.dumps({"dependencies": {"left-pad": "1"}}))
    commit_file(repo, "package.json", json.dumps({"dependencies": {"left-pad": "1"}}), "pkg")
    write(repo, "package.json", json.dumps({"dependencies": {"left-pad": "1", "lodash": "4"}}))
    write(repo, "Cargo.toml", '[package]\nname="x"\n[dependencies]\nserde = "1"\n')
    write(repo, "go.mod", "module x\n\nrequire (\n\tgithub.com/pkg/errors v0.9.1\n)\n")
    arch = (await wall(repo, tasks=[Task(id="t", title="t", write_set=["project files"])])).result("architect")
    assert arch.passed and arch.severity == "medium"
    text = " ".join(arch.findings)
    assert "'lodash'" in text and "'serde'" in text and "github.com/pkg/errors" in text and "left-pad" not in text


async def test_code_pass_syntax_and_conflict_markers(repo: Path):
    write(repo, "src/app.py", "def add(a, b)\n    return a + b\n")
    write(repo, "src/other.py", "x = 1\n<<<<<<< HEAD\ny = 2\n=======\ny = 3\n>>>>>>> branch\n")
    code = (await wall(repo)).result("code")
    assert not code.passed
    assert any("syntax error" in f for f in code.findings) and any("conflict marker" in f for f in code.findings)


async def test_code_trailing_whitespace_is_low(repo: Path):
    write(repo, "src/app.py", "def add(a, b):   \n    return a + b\n")
    code = (await wall(repo)).result("code")
    assert code.passed and code.severity == "low"


@pytest.mark.parametrize("rel,text", [
    ("tests/test_app.py", "import pytest\nfrom src.app import add\n\n\n@pytest.mark.skip\ndef test_add():\n    assert add(1, 2) == 3\n\n\n"
     "def test_add_zero():\n    assert add(0, 0) == 0\n"),
    ("tests/test_app.py", "import pytest\n\n\n@pytest.mark.xfail\ndef test_add():\n    assert 0\n\n\ndef test_add_zero():\n    assert 1\n"),
    ("web/app.test.ts", "it.skip('adds', () => {});\n"),
    ("web/app.test.js", "xit('adds', () => {});\n"),
    ("crate/tests/it.rs", "#[test]\n#[ignore]\nfn adds() {}\n"),
    ("pkg/app_test.go", "package pkg\n\nfunc TestAdd(t *testing.T) {\n\tt.Skip(\"later\")\n}\n"),
])
async def test_test_pass_catches_disabled_tests(repo: Path, rel: str, text: str):
    write(repo, rel, text)
    t = (await wall(repo, tasks=[])).result("test")
    assert not t.passed and "skips a test" in t.feedback


async def test_test_pass_catches_deleted_tests_and_count_drop(repo: Path):
    (repo / "tests/test_app.py").unlink()
    t = (await wall(repo)).result("test")
    assert not t.passed
    assert any("deletes a test file (2 test(s))" in f for f in t.findings)
    assert any("dropped from 2 to 0" in f for f in t.findings)


async def test_test_count_drop_within_file(repo: Path):
    write(repo, "tests/test_app.py", "def test_add():\n    assert True\n")
    t = (await wall(repo)).result("test")
    assert not t.passed and any("dropped from 2 to 1" in f for f in t.findings)


async def test_performance_never_blocks_for_want_of_a_perf_gate(repo: Path):
    write(repo, "src/perf/hot.py", "def f():\n    return 1\n")
    w = await wall(repo, tasks=[])
    perf = w.result("performance")
    assert perf.passed and perf.severity == "low" and "no perf/bench gate" in perf.feedback


async def test_performance_follows_a_perf_gate(repo: Path):
    write(repo, "src/perf/hot.py", "def f():\n    return 1\n")
    failing = GateResult(name="bench", command_line="python bench.py", passed=False, exit_code=1)
    perf = (await wall(repo, gates=[failing])).result("performance")
    assert not perf.passed and "bench" in perf.feedback
    ok = GateResult(name="bench", command_line="python bench.py", passed=True, exit_code=0)
    assert (await wall(repo, gates=[ok])).result("performance").passed


SLOPPY = '''import pdb


def handler(x):
    # TODO: handle errors properly
    print("debug", x)
    try:
        return int(x)
    except Exception:
        pass
    # old = compute(x)
    # if old > 3:
    #     return old
    raise NotImplementedError
'''


async def test_anti_slop_blocks_above_threshold_with_cleanup_prompt(repo: Path):
    write(repo, "src/app.py", SLOPPY)
    w = await wall(repo)
    slop = w.result("anti_slop")
    assert w.anti_slop_confidence > 0.5
    assert not slop.passed and w.blocking
    prompt = w.cleanup_prompt()
    assert prompt.splitlines()[0].startswith("review wall (s1): failed passes: anti_slop")
    for needle in ("TODO", "debug print", "except Exception", "commented-out code", "panic-style", "breakpoint"):
        assert needle in prompt, needle


async def test_anti_slop_threshold_is_configurable(repo: Path):
    write(repo, "src/app.py", SLOPPY)
    w = await wall(repo, threshold=0.99)
    assert w.result("anti_slop").passed and not w.blocking
    assert w.result("anti_slop").severity == "medium"


async def test_anti_slop_other_languages(repo: Path):
    write(repo, "src/lib.rs", "pub fn f(x: Option<u8>) -> u8 {\n    dbg!(x);\n    x.unwrap()\n}\n")
    write(repo, "src/app.js", "function f() {\n  try { g(); } catch (e) {}\n  console.log('x');\n}\n")
    write(repo, "src/util.go", "package util\n\nfunc F() {\n\tfmt.Println(\"x\")\n\tpanic(\"no\")\n}\n")
    w = await wall(repo)
    text = " ".join(w.result("anti_slop").findings)
    assert "src/lib.rs:3: panic-style" in text and "src/lib.rs:2: leaves a debugger" in text
    assert "src/app.js:2: empty catch" in text and "src/app.js:3: debug print" in text
    assert "src/util.go:4: debug print" in text and "src/util.go:5: panic-style" in text


async def test_long_file_and_function(repo: Path):
    body = "\n".join(f"    x{i} = {i}" for i in range(90))
    write(repo, "src/big.py", "def big():\n" + body + "\n    return 0\n" + "\n".join(f"Y{i} = {i}" for i in range(400)) + "\n")
    text = " ".join((await wall(repo)).result("anti_slop").findings)
    assert "function big is 92 lines long" in text and "over 400" in text


async def test_agent_reviewer_combines_and_malformed_fails(repo: Path):
    write(repo, "src/app.py", "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n")
    prompts: list[str] = []

    async def ask(kind: str, prompt: str) -> str:
        prompts.append(prompt)
        if kind == "code":
            return 'Looks off.\n```json\n{"passed": false, "severity": "high", "feedback": "sub has no test"}\n```'
        if kind == "security":
            return "I think it is fine."  # no JSON block: malformed
        return '```json\n{"passed": true, "severity": "info", "feedback": "fine"}\n```'

    w = await wall(repo, reviewer=AgentReviewer(ask=ask))
    assert len(prompts) == 6 and prompts[0].startswith("omk-tui: ") and '"review": "architect"' in prompts[0]
    assert "def sub" in prompts[1]
    assert not w.result("code").passed and "sub has no test" in w.result("code").feedback
    assert not w.result("security").passed and "malformed" in w.result("security").feedback
    assert w.result("architect").passed and w.result("architect").source == "deterministic+agent"
    assert any(v["error"] for v in w.agent_verdicts)


def test_parse_verdict_variants():
    assert parse_verdict("code", "g", '```json\n{"passed": true, "severity": "low", "feedback": "ok"}\n```').result.passed
    assert parse_verdict("code", "g", '```json\n{"passed": "yes"}\n```').error
    assert parse_verdict("code", "g", '```json\n{"passed": true, "severity": "huge"}\n```').error
    assert parse_verdict("code", "g", "```json\n{not json}\n```").error


def test_agent_reviewers_default(tmp_path: Path):
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"turns": []}))
    reviewing = tmp_path / "rev.json"
    reviewing.write_text(json.dumps({"turns": [], "review": {"code": {"passed": True}}}))
    assert agent_reviewers_enabled(None, "kimi") is True
    assert agent_reviewers_enabled(None, f"script:{plain}") is False
    assert agent_reviewers_enabled(None, f"script:{reviewing}") is True
    assert agent_reviewers_enabled(False, "kimi") is False
    assert agent_reviewers_enabled(True, f"script:{plain}") is True
