"""`linclass grade` and `linclass merge`."""

from __future__ import annotations

import argparse

from linclass.assignment import load_assignment


def grade_main(args: argparse.Namespace) -> int:
    """Grade each PATH into ``--out``; exit 0 whenever grading ran."""
    from .config import load_config

    assignment = load_assignment(args.assignment)
    load_config(assignment, args.config)  # a broken config is one clear error, before anything is graded
    sandbox = getattr(args, "sandbox", None) or "auto"
    if sandbox == "strict":  # refuse before anything is graded, naming what is missing
        from .doctor import require_strict

        require_strict()
    from .sandbox.spawn import warm_up

    warm_up(sandbox)  # the zygote imports numpy on another core while this process imports the engine
    from .batch import expand_paths, grade_batch
    from .run import grade_submission
    from .written import total_text, totals_of

    if len(args.paths) == 1 and args.jobs == 1 and not args.shard:
        targets = expand_paths(args.paths)
        if len(targets) == 1:
            result = grade_submission(targets[0], args.out, assignment=assignment, salt=args.seed_salt,
                                      config_path=args.config, sandbox=sandbox)
            print(f"{result.student_id}: {total_text(totals_of(result.results))}   reports in {result.report_dir}")
            return 0
    grade_batch(args.paths, args.out, assignment=assignment, jobs=args.jobs, shard=args.shard, salt=args.seed_salt,
                config_path=args.config, force=args.force, sandbox=sandbox)
    return 0


def merge_main(args: argparse.Namespace) -> int:
    """Combine shard outputs into one grades.csv and summary."""
    from .batch import merge_outputs

    merge_outputs(args.dirs, args.out, load_assignment(args.assignment), config_path=getattr(args, "config", None))
    return 0
