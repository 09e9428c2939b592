"""Measure arith_hf against bare baselines, side by side in one run, and show where a training step spends its time.

    python scripts/benchmark.py                                   # full run: about 6 minutes on 2 busy cores
    python scripts/benchmark.py --quick --output benchmark.json   # tiny sizes, seconds
    python scripts/benchmark.py --update_readme                   # full run, its report into README.md

Four measurements, each printed as a row of one table (and written as JSON with --output):

1. corpus: examples/s of ``ArithmeticCorpus`` building ``addition`` and ``expressions`` train splits into Arrow,
   against a plain loop that produces the same strings from the same random draws without ``datasets``, and the
   peak memory of each.
2. training: examples/s and tokens/s of ``arith_hf.training.train_step`` (what ``scripts/train.py`` runs) with the
   default addition config, against a bare PyTorch loop on the same initial weights and the same batches.
3. inference: answers/s of ``pipeline("text2text-generation")`` against bare ``model.generate`` on the same
   batches, already tokenized (the goal's baseline), and against a hand-written loop that tokenizes, generates and
   decodes; greedy and with 5 beams; and of the exact evaluator, the limit a calculator sets.
4. time split: data, forward, backward and optimizer shares of one training step, from ``torch.profiler``.

Absolute rates drift on a shared machine; ratios measured together hold. Training and inference therefore run the
two sides in alternating blocks (arith_hf, baseline, baseline, arith_hf, ...), so drift reaches both alike. A corpus
build is one long run that cannot be cut into blocks, so its rates count CPU seconds of this process, which time
that other jobs hold the core does not inflate.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import hashlib
import itertools
import json
import logging
import os
import platform
import random
import re
import resource
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

# Python puts this script's folder first on sys.path; a script there named like a library (evaluate.py)
# would shadow that library for everything imported below
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import datasets
import torch
import transformers
import yaml
from accelerate import Accelerator
from tabulate import tabulate
from torch.profiler import ProfilerActivity, profile, record_function
from transformers import pipeline

import arith_hf.pipeline  # noqa: F401  (registers the text2text-generation task)
from arith_hf import training
from arith_hf.cards import fill_marked_block
from arith_hf.corpus import SPLIT_REGIONS, ArithmeticCorpus, generate_split
from arith_hf.expressions import digit_buckets, solve
from arith_hf.modeling import create_model
from arith_hf.tokenizer import IGNORE_INDEX, build_tokenizer, decode_answers

DEFAULT_CONFIG = Path(__file__).resolve().parent / "configs" / "addition.yaml"
README = Path(__file__).resolve().parents[1] / "README.md"
GOALS = {"training": 0.95, "inference": 0.90}
# validation and test are built too, but kept tiny: the rate measured is the train split's
SMALL_SPLIT = 10
# sizes of a full run and of --quick, which only checks that every part runs
SIZES = {
    "full": dict(corpus_examples=1_000_000, train_steps=40, block_steps=5, warmup_steps=3, profile_steps=5),
    "quick": dict(corpus_examples=2_000, train_steps=4, block_steps=2, warmup_steps=1, profile_steps=2),
}
INFERENCE_SIZES = {
    "full": dict(questions=1024, batch_size=256, repeats=6),
    "quick": dict(questions=48, batch_size=16, repeats=1),
}
PHASES = ("data", "forward", "backward", "optimizer")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus_examples",
        type=int,
        default=None,
        help="train examples built per corpus config (default 1,000,000; 2,000 with --quick)",
    )
    parser.add_argument(
        "--train_steps",
        type=int,
        default=None,
        help="timed optimizer steps of each training loop, after warmup (default 40; 4 with --quick)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="training YAML (default: addition.yaml)")
    parser.add_argument("--output", type=Path, default=None, help="JSON file of every figure; default: none written")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that every part runs, in seconds")
    parser.add_argument(
        "--update_readme",
        action="store_true",
        help="write the report into README.md's Performance section (refused with --quick or other sizes)",
    )
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------
# Measuring


def describe_machine(threads: int) -> dict:
    """CPU model, cores, torch version and threads: what the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
        "python": platform.python_version(),
        "threads": threads,
        "load_average": [round(load, 2) for load in os.getloadavg()],
    }


def machine_line(machine: dict) -> str:
    load = ", ".join(f"{load:.1f}" for load in machine["load_average"])
    return (
        f"{machine['cpu']} | {machine['cores']} cores ({machine['usable_cores']} usable) | torch {machine['torch']} | "
        f"{machine['threads']} torch thread{'s' if machine['threads'] > 1 else ''} | load average at start {load}"
    )


def _rss_kib(field: str) -> int | None:
    status = Path("/proc/self/status")
    if not status.is_file():
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", status.read_text(), re.MULTILINE)
    return int(match.group(1)) if match else None


def _reset_peak_rss() -> bool:
    # Linux: writing 5 to clear_refs resets the kernel's high-water mark (VmHWM) to the current resident size
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@contextmanager
def measure():
    """Wall and CPU seconds of a block, and its peak resident memory in MiB above the size at its start.

    The peak is the kernel's own high-water mark, reset at the start of the block, so each block gets its own peak
    (Linux). Elsewhere it falls back to ``ru_maxrss``, the peak of the whole process so far.
    """
    gc.collect()
    record: dict = {}
    per_block = _reset_peak_rss() and _rss_kib("VmHWM") is not None
    start_kib = _rss_kib("VmRSS") if per_block else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wall, cpu = time.perf_counter(), time.process_time()
    yield record
    record["wall_s"] = time.perf_counter() - wall
    record["cpu_s"] = time.process_time() - cpu
    peak_kib = _rss_kib("VmHWM") if per_block else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    record["peak_rss_mib"] = peak_kib / 1024
    record["peak_growth_mib"] = (peak_kib - start_kib) / 1024
    record["memory_source"] = "VmHWM per block" if per_block else "ru_maxrss of the process"


def interleaved(runs: dict, rounds: int) -> dict[str, list[float]]:
    """Call each zero-argument run ``rounds`` times, in the order A B, B A, A B, ... (A B C, C B A, ... for three);
    seconds per call.

    Reversing the order every other round cancels a steady drift of the machine's speed, not just its average.
    """
    names = list(runs)
    seconds = {name: [] for name in names}
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            runs[name]()
            seconds[name].append(time.perf_counter() - start)
    return seconds


# ---------------------------------------------------------------------------
# 1. Corpus


def addition_strings(spec, size: int, seed: int) -> tuple[list[str], list[str]]:
    """The train questions and answers of a two-operand ``+`` corpus with digit-balanced sampling, as a plain loop.

    It takes the draws the sampler takes from the same seeded generator and keeps the questions whose hash falls
    in the train region, as the builder does, so it yields the builder's strings without sampler objects or
    ``datasets``.
    """
    if spec.operators != ("+",) or (spec.min_operands, spec.max_operands) != (2, 2) or spec.sampling != "digits":
        raise ValueError(f"the plain loop writes two-operand additions with digits sampling only, got {spec}")
    if spec.negative_prob or spec.spacing != "none":
        raise ValueError("the plain loop writes no negative operands and no spaces")
    rng = random.Random(f"arith_hf/{seed}/train")
    # the digit-count buckets and weights the sampler draws from: a table computed once, not per example
    buckets = digit_buckets(spec.min_operand, spec.max_operand)
    cumulative = list(itertools.accumulate(weight for _, _, weight in buckets))
    total, last_bucket = cumulative[-1], len(buckets) - 1
    region_low, region_high = (int(bound * 2**64) for bound in SPLIT_REGIONS["train"])
    randint, uniform = rng.randint, rng.random
    questions, answers = [], []
    while len(questions) < size:
        randint(2, 2)  # the operand count: one possible value, but the draw still advances the generator
        low, high, _ = buckets[bisect.bisect(cumulative, uniform() * total, 0, last_bucket)]
        a = randint(low, high)
        low, high, _ = buckets[bisect.bisect(cumulative, uniform() * total, 0, last_bucket)]
        b = randint(low, high)
        rng.choice("+")  # the operator: likewise
        question = f"{a}+{b}"
        key = int.from_bytes(hashlib.blake2b(question.encode(), digest_size=8).digest(), "big")
        if region_low <= key < region_high:
            questions.append(question)
            answers.append(str(a + b))
    return questions, answers


def sampler_strings(spec, size: int, seed: int) -> tuple[list[str], list[str]]:
    """The train questions and answers from arith_hf's sampler and split filter, collected in lists."""
    questions, answers = [], []
    for sample in generate_split(spec, "train", size, seed):
        questions.append(sample.question)
        answers.append(sample.answer)
    return questions, answers


def benchmark_corpus(name: str, size: int, cache_dir: str, overrides: dict) -> tuple[dict, ArithmeticCorpus]:
    """Build ``size`` train examples of a config into Arrow, then the same strings with a plain loop."""
    builder = ArithmeticCorpus(
        config_name=name,
        cache_dir=cache_dir,
        train_size=size,
        validation_size=SMALL_SPLIT,
        test_size=SMALL_SPLIT,
        **overrides,
    )
    with measure() as built:
        builder.download_and_prepare()
    spec, seed = builder.config.spec, builder.config.seed
    # the hand-written loop covers additions; other configs go through the sampler without datasets
    plain = addition_strings if spec.operators == ("+",) and spec.max_operands == 2 else sampler_strings
    with measure() as looped:
        questions, answers = plain(spec, size, seed)
    table = builder.as_dataset(split="train").with_format("arrow")[:]
    if table.column("question").to_pylist() != questions or table.column("answer").to_pylist() != answers:
        raise RuntimeError(f"{name}: the plain loop's strings differ from the corpus builder's")
    del questions, answers, table
    record = {
        "config": name,
        "examples": size,
        "baseline": "hand-written loop" if plain is addition_strings else "sampler loop into lists",
        "arith_hf": built,
        "bare": looped,
        "arith_hf_examples_per_cpu_s": size / built["cpu_s"],
        "bare_examples_per_cpu_s": size / looped["cpu_s"],
        "arith_hf_examples_per_wall_s": size / built["wall_s"],
        "bare_examples_per_wall_s": size / looped["wall_s"],
    }
    record["ratio"] = record["arith_hf_examples_per_cpu_s"] / record["bare_examples_per_cpu_s"]
    return record, builder


# ---------------------------------------------------------------------------
# 2. Training


def encode_train_split(builder: ArithmeticCorpus, tokenizer, answer_order: str) -> training.EncodedExamples:
    """The train split as tensors, the way scripts/train.py encodes it: Arrow columns straight to ids."""
    table = builder.as_dataset(split="train").with_format("arrow")[:]
    max_question_length = builder.config.spec.max_question_length()
    return training.encode_examples(
        tokenizer, table.column("question"), table.column("answer"), answer_order, max_question_length
    )


def batch_tokens(batch: dict) -> int:
    """Real tokens of a batch: question tokens and target tokens, each with eos, without padding."""
    return int(batch["attention_mask"].sum()) + int((batch["labels"] != IGNORE_INDEX).sum())


def new_model(config: dict, tokenizer, spec):
    return create_model(
        config["preset"],
        tokenizer,
        spec.max_question_length(),
        spec.max_answer_length(),
        config["answer_order"],
        seed=config["seed"],
        **config.get("model_overrides", {}),
    )


class PackageLoop:
    """arith_hf's side: the optimizer, schedule, Accelerate preparation and train step of scripts/train.py."""

    def __init__(self, config: dict, tokenizer, spec):
        self.accelerator = Accelerator(cpu=True, mixed_precision="no")
        model = new_model(config, tokenizer, spec)
        optimizer = training.build_optimizer(
            model, config["learning_rate"], config["weight_decay"], config.get("adam_betas", (0.9, 0.999))
        )
        self.scheduler = training.build_scheduler(
            optimizer, config["warmup_steps"], config["max_steps"], config["lr_schedule"], config["min_lr_ratio"]
        )
        self.model, self.optimizer = self.accelerator.prepare(model, optimizer)
        self.grad_clip = config["grad_clip"]
        self.model.train()

    def step(self, batch: dict) -> torch.Tensor:
        return training.train_step(
            self.accelerator, self.model, self.optimizer, self.scheduler, [batch], self.grad_clip
        )


class BareLoop:
    """The baseline: the same initial weights, AdamW, schedule and clipping, written in plain PyTorch."""

    def __init__(self, config: dict, tokenizer, spec):
        self.model = new_model(config, tokenizer, spec)
        # one parameter group: with the config's weight decay of 0 it updates exactly as build_optimizer's two do
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(),
            lr=config["learning_rate"],
            betas=tuple(config.get("adam_betas", (0.9, 0.999))),
            weight_decay=config["weight_decay"],
        )
        schedule = dict(
            warmup_steps=config["warmup_steps"],
            max_steps=config["max_steps"],
            schedule=config["lr_schedule"],
            min_lr_ratio=config["min_lr_ratio"],
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: training.lr_factor(step, **schedule)
        )
        self.grad_clip = config["grad_clip"]
        self.model.train()

    def step(self, batch: dict) -> torch.Tensor:
        loss = self.model(**batch).loss
        loss.backward()
        if self.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.detach()


def benchmark_training(loops: dict, batches: list[dict], sizes: dict) -> dict:
    """Warm up both loops, then time them in alternating blocks of steps over the same batches."""
    losses = {name: [] for name in loops}
    cursor = dict.fromkeys(loops, 0)

    def run(name: str, steps: int) -> None:
        for batch in batches[cursor[name] : cursor[name] + steps]:
            losses[name].append(loops[name].step(batch))
        cursor[name] += steps

    warmup, block = sizes["warmup_steps"], min(sizes["block_steps"], sizes["train_steps"])
    for name in loops:
        run(name, warmup)
    rounds = max(1, sizes["train_steps"] // block)
    seconds = interleaved({name: lambda name=name: run(name, block) for name in loops}, rounds)
    timed = batches[warmup : warmup + rounds * block]
    examples = sum(len(batch["input_ids"]) for batch in timed)
    tokens = sum(batch_tokens(batch) for batch in timed)
    record = {"timed_steps": len(timed), "warmup_steps": warmup, "block_steps": block, "seconds": seconds}
    for name in loops:
        total = sum(seconds[name])
        record[f"{name}_examples_per_s"] = examples / total
        record[f"{name}_tokens_per_s"] = tokens / total
    record["ratio"] = record["arith_hf_examples_per_s"] / record["bare_examples_per_s"]
    # same weights, batches and updates: the two loops must report the same losses
    difference = (torch.stack(losses["arith_hf"]) - torch.stack(losses["bare"])).abs().max()
    record["max_loss_difference"] = float(difference)
    return record


# ---------------------------------------------------------------------------
# 3. Inference


def benchmark_inference(folder: str, questions: list[str], batch_size: int, repeats: int) -> dict:
    """The pipeline against ``model.generate`` on the same model and batches, greedy and with 5 beams."""
    answerer = pipeline("text2text-generation", model=folder)
    model, tokenizer = answerer.model, answerer.tokenizer
    # the same consecutive batches the pipeline forms, tokenized once outside the timing: the bare side is
    # generate alone, the floor the pipeline's tokenizing, validating and decoding add to
    batches = [
        tokenizer(questions[start : start + batch_size], padding=True, return_tensors="pt")
        for start in range(0, len(questions), batch_size)
    ]
    record = {
        "questions": len(questions),
        "batch_size": batch_size,
        "repeats": repeats,
        "max_new_tokens": model.generation_config.max_new_tokens,
    }
    reverse = model.config.answer_order == "reverse"
    for label, num_beams in (("greedy", 1), ("beams5", 5)):
        options = dict(num_beams=num_beams, num_return_sequences=1)
        outputs = {}

        def run_pipeline(inputs=questions, options=options, outputs=outputs):
            outputs["arith_hf"] = answerer(inputs, batch_size=batch_size, **options)

        def run_generate(batches=batches, options=options, outputs=outputs):
            with torch.inference_mode():
                outputs["bare"] = [model.generate(**batch, **options) for batch in batches]

        def run_loop(inputs=questions, options=options, outputs=outputs):
            # what a hand-written loop does to get answers from text: tokenize, generate, decode, turn around
            answers = []
            with torch.inference_mode():
                for start in range(0, len(inputs), batch_size):
                    batch = tokenizer(inputs[start : start + batch_size], padding=True, return_tensors="pt")
                    texts = tokenizer.batch_decode(model.generate(**batch, **options), skip_special_tokens=True)
                    answers += [text[::-1] for text in texts] if reverse else texts
            outputs["loop"] = answers

        # warm up every side: first calls allocate and fill caches
        run_pipeline(questions[:batch_size])
        run_generate(batches[:1])
        run_loop(questions[:batch_size])
        seconds = interleaved({"arith_hf": run_pipeline, "bare": run_generate, "loop": run_loop}, repeats)
        # every side must have generated the same tokens, hence the same number of them
        bare_answers = [
            answer for ids in outputs["bare"] for answer in decode_answers(tokenizer, ids, model.config.answer_order)
        ]
        if not [output["generated_text"] for output in outputs["arith_hf"]] == bare_answers == outputs["loop"]:
            raise RuntimeError(f"{label}: the pipeline's, generate's and the loop's answers differ")
        answered = len(questions) * repeats
        record[label] = {
            "seconds": seconds,
            "arith_hf_answers_per_s": answered / sum(seconds["arith_hf"]),
            "bare_answers_per_s": answered / sum(seconds["bare"]),
            "loop_answers_per_s": answered / sum(seconds["loop"]),
            "generated_tokens_per_batch": [ids.shape[1] - 1 for ids in outputs["bare"]],
        }
        record[label]["ratio"] = record[label]["arith_hf_answers_per_s"] / record[label]["bare_answers_per_s"]
        record[label]["loop_ratio"] = record[label]["arith_hf_answers_per_s"] / record[label]["loop_answers_per_s"]
    # the exact evaluator answers the same questions
    start = time.perf_counter()
    for _ in range(repeats):
        for question in questions:
            solve(question)
    record["exact_answers_per_s"] = len(questions) * repeats / (time.perf_counter() - start)
    return record


# ---------------------------------------------------------------------------
# 4. Time split of one training step


def profile_train_step(loop: PackageLoop, examples: training.EncodedExamples, order, first_step: int, steps: int):
    """The phases of train_step, each under a profiler range, plus the batch assembly that precedes it.

    The ranges wrap the calls train_step makes (forward, ``accelerator.backward``, then clipping, optimizer and
    schedule step), since the function itself has no ranges to read.
    """
    accelerator, model, optimizer = loop.accelerator, loop.model, loop.optimizer

    def step(index: int) -> None:
        with record_function("data"):
            batch = examples.batch(order.indices(index))
        with record_function("forward"):
            loss = model(**batch).loss
        with record_function("backward"):
            accelerator.backward(loss)
        with record_function("optimizer"):
            if loop.grad_clip > 0:
                accelerator.clip_grad_norm_(model.parameters(), loop.grad_clip)
            optimizer.step()
            loop.scheduler.step()
            optimizer.zero_grad(set_to_none=True)

    step(first_step)  # warm: the profiler should not see first-call allocations
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for index in range(first_step + 1, first_step + 1 + steps):
            step(index)
    wall_ms = 1000 * (time.perf_counter() - start) / steps
    totals = {event.key: event.cpu_time_total for event in profiler.key_averages() if event.key in PHASES}
    phase_ms = {phase: totals.get(phase, 0.0) / 1000 / steps for phase in PHASES}
    covered = sum(phase_ms.values())
    return {
        "steps": steps,
        "step_ms": wall_ms,
        "phase_ms": phase_ms,
        "phase_percent": {phase: 100 * value / covered for phase, value in phase_ms.items()},
    }


# ---------------------------------------------------------------------------
# Report


def _rate(value: float) -> str:
    return f"{value:,.0f}"


def _ratio(value: float, goal: float | None = None) -> tuple[str, str]:
    if goal is None:
        return f"{value:.2f}", ""
    return f"{value:.2f}", f">= {goal:.2f} {'met' if value >= goal else 'MISSED'}"


def summary_rows(results: dict) -> list[dict]:
    """One row per figure: what was measured, arith_hf, the bare baseline, their ratio and its goal."""
    rows = []
    for corpus in results["corpus"]:
        name, size = corpus["config"], corpus["examples"]
        ratio, _ = _ratio(corpus["ratio"])
        rows.append(
            {
                "benchmark": f"corpus {name}, {size:,} train examples ({corpus['baseline']})",
                "unit": "examples/CPU-s",
                "arith_hf": _rate(corpus["arith_hf_examples_per_cpu_s"]),
                "bare": _rate(corpus["bare_examples_per_cpu_s"]),
                "ratio": ratio,
                "goal": "",
            }
        )
        rows.append(
            {
                "benchmark": f"corpus {name}, peak memory",
                "unit": "MiB above start",
                "arith_hf": f"{corpus['arith_hf']['peak_growth_mib']:,.0f}",
                "bare": f"{corpus['bare']['peak_growth_mib']:,.0f}",
                "ratio": "",
                "goal": "",
            }
        )
    train = results["training"]
    label = f"training {train['preset']}, batch {train['batch_size']} ({train['timed_steps']} steps each)"
    for unit in ("examples", "tokens"):
        ratio, goal = _ratio(train["ratio"], GOALS["training"])
        rows.append(
            {
                "benchmark": label,
                "unit": f"{unit}/s",
                "arith_hf": _rate(train[f"arith_hf_{unit}_per_s"]),
                "bare": _rate(train[f"bare_{unit}_per_s"]),
                "ratio": ratio,
                "goal": goal,
            }
        )
    inference = results["inference"]
    for label, title in (("greedy", "greedy"), ("beams5", "5 beams")):
        figures = inference[label]
        ratio, goal = _ratio(figures["ratio"], GOALS["inference"])
        rows.append(
            {
                "benchmark": f"inference {title}, {inference['questions']:,} questions in batches of "
                f"{inference['batch_size']}",
                "unit": "answers/s",
                "arith_hf": _rate(figures["arith_hf_answers_per_s"]),
                "bare": _rate(figures["bare_answers_per_s"]),
                "ratio": ratio,
                "goal": goal,
            }
        )
        rows.append(
            {
                "benchmark": f"inference {title}, against a hand-written tokenize-generate-decode loop",
                "unit": "answers/s",
                "arith_hf": _rate(figures["arith_hf_answers_per_s"]),
                "bare": _rate(figures["loop_answers_per_s"]),
                "ratio": _ratio(figures["loop_ratio"])[0],
                "goal": "",
            }
        )
    rows.append(
        {
            "benchmark": "exact evaluator (arith_hf.expressions.solve), same questions",
            "unit": "answers/s",
            "arith_hf": _rate(inference["exact_answers_per_s"]),
            "bare": "",
            "ratio": "",
            "goal": "",
        }
    )
    return rows


def time_split_rows(split: dict) -> list[dict]:
    rows = [
        {
            "phase": phase,
            "ms per step": f"{split['phase_ms'][phase]:.1f}",
            "share": f"{split['phase_percent'][phase]:.1f}%",
        }
        for phase in PHASES
    ]
    rows.append({"phase": "whole step (wall, profiled)", "ms per step": f"{split['step_ms']:.1f}", "share": ""})
    return rows


def format_report(results: dict) -> str:
    train = results["training"]
    inference = results["inference"]
    tokens = sorted(
        {count for label in ("greedy", "beams5") for count in inference[label]["generated_tokens_per_batch"]}
    )
    notes = [
        f"machine: {machine_line(results['machine'])}",
        "",
        tabulate(summary_rows(results), headers="keys", tablefmt="github", disable_numparse=True),
        "",
        "ratio = arith_hf / bare (higher is better). Corpus: ArithmeticCorpus.download_and_prepare against a loop "
        "into Python lists giving identical strings, run one after the other; memory is the peak resident size above "
        "the size at the start of each run (kernel high-water mark, reset per run).",
        f"Training: train_step with Accelerator(cpu=True) against a plain loss.backward() loop; same initial weights "
        f"and batches, largest loss difference {train['max_loss_difference']:.2g}. Tokens are question and target "
        "tokens with eos, without padding.",
        f"Inference: both sides answer identically, generating {', '.join(map(str, tokens))} tokens per batch "
        f"(max_new_tokens {inference['max_new_tokens']}); bare generate gets the batches already tokenized "
        "(the goal's baseline); the hand-written loop tokenizes and decodes as any user must.",
        "",
        "where one training step spends its time (torch.profiler ranges; data = batch assembly):",
        "",
        tabulate(time_split_rows(results["time_split"]), headers="keys", tablefmt="github", disable_numparse=True),
    ]
    return "\n".join(notes)


# ---------------------------------------------------------------------------
# Main


def main(argv: list[str] | None = None) -> dict:
    # arguments, sizes and quiet libraries
    args = parse_args(argv)
    mode = "quick" if args.quick else "full"
    sizes = dict(SIZES[mode])
    if args.corpus_examples is not None:
        sizes["corpus_examples"] = args.corpus_examples
    if args.train_steps is not None:
        sizes["train_steps"] = args.train_steps
    inference_sizes = INFERENCE_SIZES[mode]
    if args.threads < 1 or sizes["corpus_examples"] < 1 or sizes["train_steps"] < 1:
        raise ValueError("--threads, --corpus_examples and --train_steps must be >= 1")
    if args.update_readme and sizes != SIZES["full"]:
        raise ValueError("--update_readme writes the README's figures: only a full run, without --quick or sizes")
    torch.set_num_threads(args.threads)
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    # an untrained model's answers run to the length limit, and a warning per answer would time logging
    logging.getLogger("arith_hf.pipeline").setLevel(logging.ERROR)
    config = yaml.safe_load(args.config.read_text())
    machine = describe_machine(args.threads)
    results = {"machine": machine, "sizes": sizes, "inference_sizes": inference_sizes, "config": str(args.config)}

    with tempfile.TemporaryDirectory(prefix="arith_hf-benchmark-") as workdir:
        # 1. corpus: the training config's corpus, then the expressions config
        corpus_overrides = {
            name: value
            for name, value in config.get("corpus", {}).items()
            if name not in ("name", "cache_dir", "train_size", "validation_size", "test_size", "seed")
        }
        results["corpus"] = []
        builders = {}
        for name, overrides in ((config["corpus"]["name"], corpus_overrides), ("expressions", {})):
            print(
                f"corpus {name}: {sizes['corpus_examples']:,} examples with the builder, then a plain loop", flush=True
            )
            record, builders[name] = benchmark_corpus(name, sizes["corpus_examples"], workdir, overrides)
            results["corpus"].append(record)

        # 2. training: both loops over the same pre-assembled batches
        print(f"training: {sizes['train_steps']} steps of each loop", flush=True)
        tokenizer = build_tokenizer()
        spec = builders[config["corpus"]["name"]].config.spec
        train_examples = encode_train_split(builders[config["corpus"]["name"]], tokenizer, config["answer_order"])
        order = training.BatchOrder(len(train_examples), config["batch_size"], config["seed"])
        needed = sizes["warmup_steps"] + sizes["train_steps"]
        batches = [train_examples.batch(order.indices(step)) for step in range(needed)]
        loops = {"arith_hf": PackageLoop(config, tokenizer, spec), "bare": BareLoop(config, tokenizer, spec)}
        results["training"] = {
            "preset": config["preset"],
            "batch_size": config["batch_size"],
            **benchmark_training(loops, batches, sizes),
        }

        # 3. inference: the arith_hf loop's briefly trained model, saved as a checkpoint
        print("inference: pipeline against generate", flush=True)
        folder = Path(workdir) / "checkpoint"
        loops["arith_hf"].accelerator.unwrap_model(loops["arith_hf"].model).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        questions = builders[config["corpus"]["name"]].as_dataset(split="train")[: inference_sizes["questions"]]
        results["inference"] = benchmark_inference(
            str(folder), questions["question"], inference_sizes["batch_size"], inference_sizes["repeats"]
        )

        # 4. time split of the training step, continuing the arith_hf loop
        print("time split: profiling training steps", flush=True)
        results["time_split"] = profile_train_step(
            loops["arith_hf"], train_examples, order, needed, sizes["profile_steps"]
        )

    # report
    report = format_report(results)
    results["table"] = summary_rows(results)
    print(report)
    if args.update_readme:
        command = "python scripts/benchmark.py --update_readme"
        fill_marked_block(README, "benchmark", f"Measured by `{command}` on {time.strftime('%Y-%m-%d')}.\n\n{report}")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return results


if __name__ == "__main__":
    main()
