"""``streamdrift-grader``: print the task prompt, grade submissions (and, from
``grader/cli_run.py``, run Claude on the task).

Exit codes: 0 when the command ran (``grade`` exits 0 whatever the verdicts), 2 on bad
usage or unreadable input, with one line ``error: ...`` on stderr (a traceback only with
``--debug``), 130 after Ctrl-C.
"""

from __future__ import annotations

import json
import math
import sys
import traceback
from collections import Counter

import click

EXIT_USAGE = 2


class GraderUsageError(Exception):
    """Bad usage or input: printed as ``error: <message>``, exit 2."""


class _PipeClosed(Exception):
    """The reader of our output went away (``| head``): stop quietly, exit 0.

    Not an OSError, so click does not turn it into its own exit 1.
    """


def _echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    try:
        click.echo(text, err=err, nl=nl)
    except BrokenPipeError:
        raise _PipeClosed() from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Grade detect_drift submissions (the streamdrift RL task) safely and exactly."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def finite(ctx, param, value):
    """Option callback: a float option must be a finite number (click's FloatRange lets nan and inf through)."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value!r} is not a finite number", ctx=ctx, param=param)
    return value


@cli.command("prompt")
def prompt_command() -> None:
    """Print the task prompt (Markdown) that a model receives."""
    from grader.prompt import task_prompt

    _echo(task_prompt(), nl=False)


@cli.command("reasons")
def reasons_command() -> None:
    """List the reason codes a verdict can carry, with what each means."""
    from grader.checks import REASONS, RUN_REASONS

    width = max(map(len, {**REASONS, **RUN_REASONS}))
    for code, text in REASONS.items():
        _echo(f"{code:<{width}}  {text}")
    _echo("\nof a whole run (streamdrift-grader run):")
    for code, text in RUN_REASONS.items():
        _echo(f"{code:<{width}}  {text}")


def _text_line(graded) -> str:
    r = graded.result
    verdict = "PASS" if r.passed else "FAIL"
    line = f"{verdict}  {r.score:.3f}  {r.duration_s:6.2f}s  {graded.source}"
    if r.reasons:
        line += "  [" + ", ".join(r.reasons) + "]"
    return line


def format_summary(graded: list, wall_s: float, jobs: int, isolation: str, slowest: int = 5) -> str:
    """Pass rate, mean score, counts per reason (with what each means), slowest submissions."""
    from grader.checks import REASONS

    n = len(graded)
    passed = sum(g.result.passed for g in graded)
    mean = sum(g.result.score for g in graded) / n if n else 0.0
    from grader.sandbox import describe_isolation

    layers = next((g.result.isolation for g in graded if g.result.isolation.get("uid")),
                  next((g.result.isolation for g in graded if g.result.isolation), {}))
    lines = [
        f"graded {n} submission{'s' if n != 1 else ''} in {wall_s:.1f} s "
        f"({n / wall_s if wall_s > 0 else 0.0:.1f}/s, jobs {jobs}, isolation {isolation})",
        f"isolation in force: {describe_isolation(layers) if layers else 'none (nothing was run)'}",
        f"pass rate {100.0 * passed / n if n else 0.0:.1f}% ({passed}/{n}), mean score {mean:.3f}",
    ]
    counts = Counter(code for g in graded for code in g.result.reasons)
    if counts:
        lines.append("reasons (submissions):")
        width = max(map(len, counts))
        for code, k in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {code:<{width}}  {k:>5}  {REASONS.get(code, '')}")
    if graded:
        lines.append("slowest:")
        for g in sorted(graded, key=lambda g: -g.result.duration_s)[:slowest]:
            lines.append(f"  {g.result.duration_s:6.2f} s  {g.source}")
    return "\n".join(lines)


@cli.command("grade")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Submissions graded at once.  [default: CPU count]")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a line per submission and a summary; json: one JSON object per submission (JSON Lines).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the hidden cases.")
@click.option("--tolerance", type=click.FloatRange(min=0.0), default=1e-6, show_default=True, callback=finite,
              help="Largest accepted |KL - reference|.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=20.0, show_default=True, callback=finite,
              help="Wall-time limit per submission, seconds (all cases).")
@click.option("--memory", "memory_mb", type=click.IntRange(min=64), default=2048, show_default=True,
              help="Memory limit per submission, MB (everything it holds, through a memory cgroup; and its address space).")
@click.option("--isolation", type=click.Choice(["fork", "spawn", "none"]), default="fork", show_default=True,
              help="fork: children of warm workers (fast); spawn: a fresh interpreter per submission; both in a "
                   "minimal root (bubblewrap). none: the host's file system, for trusted code only.")
@click.option("--verbose", "-v", is_flag=True,
              help="Text format: also show what was seen in each failed case (values, errors, printed lines).")
@click.pass_context
def grade_command(ctx, paths, jobs, fmt, seed, tolerance, timeout_s, memory_mb, isolation, verbose):
    """Grade submissions: .py files, model responses (.md/.txt: the first ```python block),
    directories of them, or JSON Lines files with a "code" field.

    \b
    Examples:
      streamdrift-grader grade answer.py
      streamdrift-grader grade runs/ --jobs 4 --format json > results.jsonl
    """
    import os
    import time

    from grader.batch import grade_many
    from grader.submissions import SubmissionError, load

    try:
        submissions = load(paths)
    except SubmissionError as exc:
        raise GraderUsageError(str(exc)) from None
    if not submissions:
        raise GraderUsageError(f"no submissions found in {', '.join(paths)} (looked for .py, .md, .txt, .jsonl)")
    jobs = jobs or os.cpu_count() or 1

    def emit(graded):
        if fmt == "json":
            _echo(json.dumps(graded.to_dict()))
        else:
            _echo(_text_line(graded))
            if not graded.result.passed:
                for line in graded.result.explain(details=verbose):
                    _echo("    " + line)

    started = time.monotonic()
    graded = grade_many(submissions, jobs=jobs, isolation=isolation, on_result=emit, seed=seed,
                        tolerance=tolerance, timeout_s=timeout_s, memory_mb=memory_mb)
    wall = time.monotonic() - started
    summary = format_summary(graded, wall, jobs, isolation)
    _echo(summary, err=fmt == "json")


def main(argv=None) -> None:
    """Console entry point: one exit path for every error."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        rv = cli.main(args=argv, prog_name="streamdrift-grader", standalone_mode=False)
    except GraderUsageError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:  # bare `streamdrift-grader`: the whole help
        click.echo(exc.ctx.get_help(), err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:  # usage errors: one line, exit 2
        if debug:
            traceback.print_exc()
        message = exc.format_message().splitlines()[0] if exc.format_message() else str(exc)
        click.echo(f"error: {message}", err=True)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except (_PipeClosed, BrokenPipeError):
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the final flush at exit must not fail again
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001 - the one exit point
        if debug:
            traceback.print_exc()
        click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(rv if isinstance(rv, int) else 0)


# --- `run` and `report` (issue 5) are registered here when grader/cli_run.py exists -------------
try:
    from grader.cli_run import register as _register_run
except ImportError as _exc:  # only the module being absent is tolerated
    if getattr(_exc, "name", None) != "grader.cli_run":
        raise
else:
    _register_run(cli)
