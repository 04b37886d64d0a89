"""``rlzoo export``: the greedy policy as ONNX; and ``rlzoo evaluate policy.onnx``, played with onnxruntime alone."""

from __future__ import annotations

import argparse
import os
from typing import Any

from rlzoo.cli.common import UsageError, non_empty
from rlzoo.evaluation import evaluate
from rlzoo.onnx_export import export_onnx
from rlzoo.onnx_policy import load_onnx


def add_parser(commands: Any) -> None:
    """Register ``export`` on the subcommand parsers."""
    export = commands.add_parser("export", help="export a saved agent's greedy policy to ONNX (extra: onnx)")
    export.add_argument("artifact", help="an agent.zip, or a model folder written by rlzoo package")
    export.add_argument("--onnx", required=True, type=non_empty, metavar="FILE", help="the .onnx file to write")
    export.add_argument("--force", action="store_true", help="replace FILE if it exists")
    export.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if os.path.isdir(args.onnx):
        raise UsageError(f"--onnx {args.onnx!r} is a folder: give a file name such as policy.onnx")
    if os.path.lexists(args.onnx) and not args.force:
        raise UsageError(f"--onnx {args.onnx!r} already exists: pass --force to replace it")
    path = export_onnx(args.artifact, args.onnx)
    print(f"wrote {path}: the greedy policy, checked against the agent on a greedy episode")
    print(f"play it with onnxruntime alone: rlzoo evaluate {path}")
    return 0


def evaluate_onnx(args: argparse.Namespace) -> int:
    """``rlzoo evaluate policy.onnx [--env ID]``: NumPy and onnxruntime, no TensorFlow, no torch."""
    if args.stochastic:
        raise UsageError("an exported ONNX policy is greedy only: evaluate it without --stochastic")
    policy = load_onnx(args.artifact, args.env)
    result = evaluate(policy, n_episodes=args.episodes, seed=args.seed)
    print(f"{policy.name} on {policy.env_id} (onnxruntime; frames stacked: {policy.frame_stack})")
    print(f"greedy evaluation: {result} (min {min(result.returns):.1f})")
    return 0
