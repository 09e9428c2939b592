"""Train a character-level T5 or BART model on an arithmetic corpus, on one or many processes.

    python scripts/train.py --config scripts/configs/addition.yaml
    accelerate launch scripts/train.py --config scripts/configs/addition.yaml --max_steps 2000
    accelerate launch --multi_gpu --num_processes 2 scripts/train.py --config scripts/configs/addition.yaml

Every option can be set in the YAML file and overridden on the command line (``--help`` lists them).
The same code runs on one CPU process, several CPU processes (gloo; ``--multi_gpu`` is the launcher's
name for it even without a GPU) and one or more GPUs. Checkpoints go to ``output_dir/checkpoint-<step>``,
the final model with its card to ``output_dir/final``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Literal, NamedTuple

# Python puts this script's folder first on sys.path; a script there named like a library (evaluate.py)
# would shadow that library for everything imported below
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import torch
import transformers
import yaml
from accelerate import Accelerator
from accelerate.utils import set_seed
from jsonargparse import ActionConfigFile, ActionYesNo, ArgumentParser, Namespace
from tqdm.auto import tqdm

from arith_hf import training
from arith_hf.cards import write_model_card
from arith_hf.corpus import FIELD_HELP, NAMED_CONFIGS, ArithmeticCorpus
from arith_hf.modeling import PRESETS, create_model
from arith_hf.tokenizer import ANSWER_ORDERS, build_tokenizer
from arith_hf.training import NonFiniteLossError

# names TensorBoard tags can hold, for the per-operator figures
OPERATOR_TAGS = {"+": "plus", "-": "minus", "*": "times", "/": "divide", "mixed": "mixed"}


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(description=__doc__.split("\n")[0], default_env=False)
    parser.add_argument("--config", action=ActionConfigFile, help="YAML file of options; later options override it")

    group = parser.add_argument_group("corpus")
    group.add_argument(
        "--corpus.name", type=str, default="addition", help=f"named corpus config: {', '.join(NAMED_CONFIGS)}"
    )
    group.add_argument(
        "--corpus.cache_dir",
        type=str | None,
        default=None,
        help="folder of built corpora; None = the datasets cache (~/.cache/huggingface/datasets)",
    )
    for name, text in FIELD_HELP.items():
        default = getattr(NAMED_CONFIGS["addition"], name)
        kind = str if isinstance(default, tuple | str) else type(default)
        group.add_argument(f"--corpus.{name}", type=kind | None, default=None, help=f"{text}; None = the config's")

    group = parser.add_argument_group("model")
    group.add_argument("--preset", type=str, default="t5-mini", help=f"model preset: {', '.join(PRESETS)}")
    group.add_argument(
        "--answer_order",
        type=Literal[ANSWER_ORDERS],
        default="reverse",
        help="order the model writes answer digits in; reverse = least significant first, as carries propagate",
    )
    group.add_argument(
        "--model_overrides",
        type=dict,
        default={},
        help='preset fields to replace, e.g. {"d_model": 64, "num_layers": 1}; {} = the preset as is',
    )

    group = parser.add_argument_group("optimization")
    group.add_argument("--batch_size", type=int, default=512, help="examples per micro-batch on each process")
    group.add_argument(
        "--grad_accum", type=int, default=1, help="micro-batches per optimizer step (gradient accumulation)"
    )
    group.add_argument("--max_steps", type=int, default=3000, help="optimizer steps of the whole run")
    group.add_argument("--learning_rate", type=float, default=3e-3, help="peak learning rate, after warmup")
    group.add_argument(
        "--lr_schedule",
        type=Literal[training.LR_SCHEDULES],
        default="cosine",
        help="decay after warmup: cosine or linear down to min_lr_ratio at max_steps, or constant",
    )
    group.add_argument("--warmup_steps", type=int, default=200, help="optimizer steps of linear warmup from 0")
    group.add_argument(
        "--min_lr_ratio", type=float, default=0.0, help="learning rate at max_steps as a fraction of the peak"
    )
    group.add_argument(
        "--weight_decay", type=float, default=0.0, help="AdamW decoupled weight decay of matrices and embeddings"
    )
    group.add_argument("--adam_betas", type=tuple[float, float], default=(0.9, 0.98), help="AdamW (beta1, beta2)")
    group.add_argument("--grad_clip", type=float, default=1.0, help="largest global gradient norm; 0 = no clipping")

    group = parser.add_argument_group("evaluation and logging")
    group.add_argument(
        "--eval_every", type=int, default=500, help="optimizer steps between evaluations; 0 = only the final one"
    )
    group.add_argument(
        "--eval_size", type=int, default=1000, help="validation questions per periodic evaluation; 0 = the whole split"
    )
    group.add_argument("--eval_batch_size", type=int, default=1000, help="questions per generate call on each process")
    group.add_argument(
        "--final_eval_splits",
        type=list[str],
        default=["validation", "test"],
        help="corpus splits the final model is scored on, each whole; [] = none",
    )
    group.add_argument("--log_every", type=int, default=50, help="optimizer steps between log lines")
    group.add_argument(
        "--report_to",
        type=Literal["tensorboard", "none"],
        default="tensorboard",
        help="tracker for loss, learning rate and evaluation curves; writes to output_dir/tensorboard",
    )
    group.add_argument(
        "--progress_bar", action=ActionYesNo, default=True, help="show a tqdm progress bar; --no_progress_bar hides it"
    )

    group = parser.add_argument_group("checkpoints")
    group.add_argument("--output_dir", type=str, default="outputs/addition", help="folder of checkpoints and final")
    group.add_argument(
        "--save_every", type=int, default=1000, help="optimizer steps between checkpoints; 0 = only the final model"
    )
    group.add_argument("--keep_last", type=int, default=2, help="checkpoints kept, newest first; 0 = keep all")
    group.add_argument(
        "--resume_from_checkpoint",
        type=str | None,
        default=None,
        help="latest = newest checkpoint in output_dir (a fresh start if none), or a checkpoint path; None = fresh",
    )
    group.add_argument(
        "--overwrite_output_dir",
        action=ActionYesNo,
        default=False,
        help="delete checkpoints already in output_dir when starting fresh; without it such a start is an error",
    )
    group.add_argument(
        "--model_name",
        type=str | None,
        default=None,
        help="name on the final model card, e.g. user/arith-t5-tiny; None = arith_hf-<preset>-<corpus>",
    )
    group.add_argument(
        "--model_cards_dir", type=str | None, default=None, help="also copy the card here as <name>.md; None = no"
    )

    group = parser.add_argument_group("runtime")
    group.add_argument("--seed", type=int, default=0, help="seed of model initialisation and batch order")
    group.add_argument(
        "--mixed_precision",
        type=Literal["auto", "no", "bf16", "fp16"],
        default="auto",
        help="autocast precision; auto = bf16 on a GPU that has it, else no",
    )
    group.add_argument("--cpu", action=ActionYesNo, default=False, help="train on the CPU even if a GPU exists")
    group.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch CPU threads per process; 0 = the usable cores shared among this machine's processes",
    )
    return parser


def parse_args(argv: list[str] | None = None) -> Namespace:
    return build_parser().parse_args(argv)


# ---------------------------------------------------------------------------
# Helpers of the steps below


def format_duration(seconds: float) -> str:
    return str(timedelta(seconds=int(seconds)))


def config_yaml(args: Namespace) -> str:
    """Every option, None values included, as YAML that ``--config`` reads back."""
    options = args.clone().as_dict()
    options.pop("config", None)
    # through JSON, tuples become the lists YAML writes plainly
    return yaml.safe_dump(json.loads(json.dumps(options)), sort_keys=False)


def tracker_config(args: Namespace) -> dict:
    """The options flattened to the scalars TensorBoard's hyperparameter table accepts."""
    flat = {}
    for key, value in args.as_flat().__dict__.items():
        if key != "config":
            flat[key] = value if isinstance(value, int | float | str | bool) else str(value)
    return flat


def prepare_output_dir(accelerator: Accelerator, args: Namespace) -> None:
    """Clear what a killed run left half-written; refuse to mix a fresh run with an earlier run's checkpoints, and
    to resume from the latest checkpoint where there is none."""
    output_dir = Path(args.output_dir)
    if accelerator.is_main_process:
        training.remove_stale_folders(output_dir)
    existing = training.list_checkpoints(output_dir)
    if args.resume_from_checkpoint == "latest" and not existing:
        # a silent fresh start would train from step 0 again and replace the run's final model
        raise FileNotFoundError(
            f"--resume_from_checkpoint latest: no checkpoint-<step> folder in {output_dir}; "
            "leave the option out to start from step 0"
        )
    if existing and not args.resume_from_checkpoint:
        if not args.overwrite_output_dir:
            raise FileExistsError(
                f"{output_dir} already holds checkpoints (newest {existing[-1].name}); pass "
                "--resume_from_checkpoint latest to continue that run or --overwrite_output_dir to delete them"
            )
        if accelerator.is_main_process:
            training.delete_checkpoints(output_dir)
    accelerator.wait_for_everyone()


def build_corpus(accelerator: Accelerator, args: Namespace):
    """The corpus splits and the builder's config; ``args.corpus`` is filled with every resolved field."""
    overrides = {name: value for name, value in args.corpus.as_dict().items() if name in FIELD_HELP}
    overrides = {name: value for name, value in overrides.items() if value is not None}
    # one process builds, the others then read its cache
    with accelerator.main_process_first():
        builder = ArithmeticCorpus(config_name=args.corpus.name, cache_dir=args.corpus.cache_dir, **overrides)
        builder.download_and_prepare()
        corpus = builder.as_dataset()
    # the saved configuration then names every corpus field, so a run can be traced and repeated
    for name in FIELD_HELP:
        value = getattr(builder.config, name)
        setattr(args.corpus, name, "".join(value) if isinstance(value, tuple) else value)
    return corpus, builder.config, overrides


class EvalSet(NamedTuple):
    """A pre-tokenized evaluation split with its questions and answers as strings."""

    split: str
    encoded: training.EncodedExamples
    questions: list[str]
    answers: list[str]

    def head(self, size: int) -> EvalSet:
        if not 0 < size < len(self.questions):
            return self
        return EvalSet(self.split, self.encoded.head(size), self.questions[:size], self.answers[:size])


def encode_splits(tokenizer, corpus, args: Namespace, max_question_length: int):
    """The training split as tensors, and the evaluation splits (validation and the final ones)."""
    # Arrow columns straight from the memory-mapped corpus: no Python string per training example
    tables = {split: corpus[split].with_format("arrow")[:] for split in corpus}
    train = tables["train"]
    train_examples = training.encode_examples(
        tokenizer, train["question"], train["answer"], args.answer_order, max_question_length
    )
    eval_sets = {}
    for split in ["validation", *args.final_eval_splits]:
        if split not in tables:
            raise ValueError(f"unknown split {split!r}; the corpus has {list(tables)}")
        questions, answers = tables[split]["question"], tables[split]["answer"]
        encoded = training.encode_examples(tokenizer, questions, answers, args.answer_order, max_question_length)
        eval_sets[split] = EvalSet(split, encoded, questions.to_pylist(), answers.to_pylist())
    return train_examples, eval_sets


def evaluate(accelerator, model, tokenizer, eval_set: EvalSet, args: Namespace) -> training.Evaluation | None:
    return training.evaluate_model(
        accelerator,
        model,
        tokenizer,
        eval_set.encoded,
        eval_set.questions,
        eval_set.answers,
        args.eval_batch_size,
        args.answer_order,
    )


def evaluation_record(evaluation: training.Evaluation, split: str, args: Namespace, overrides: dict) -> dict:
    """The form model cards read: the scores and the data they were measured on."""
    dataset = {"corpus": args.corpus.name, "split": split, "size": evaluation.count, "overrides": overrides}
    return {"scores": evaluation.results, "dataset": dataset}


def evaluation_metrics(evaluation: training.Evaluation, prefix: str) -> dict:
    """Scalars for the tracker: overall figures, and exact match and total difference per operator class."""
    overall = evaluation.results["overall"]
    metrics = {f"{prefix}/{key}": overall[key] for key in ("exact_match", "total_abs_diff", "mean_abs_diff")}
    metrics[f"{prefix}/invalid_rate"] = overall["invalid_rate"]
    for operator, scores in evaluation.results["by"]["operator_class"].items():
        tag = OPERATOR_TAGS.get(operator, operator)
        metrics[f"{prefix}/total_abs_diff_{tag}"] = scores["total_abs_diff"]
        metrics[f"{prefix}/exact_match_{tag}"] = scores["exact_match"]
    return metrics


def print_evaluation(evaluation: training.Evaluation, label: str, seconds: float) -> None:
    for line in evaluation.mistakes(5):
        tqdm.write(f"  {line}")
    tqdm.write(f"eval {label} | {evaluation.summary()} | {seconds:.1f} s")


# ---------------------------------------------------------------------------
# Training


def train(args: Namespace) -> dict:
    """Run the training that ``args`` describes; returns the final results (scores on the main process only)."""
    # 1. options: checks, and what follows from them
    for name in ("batch_size", "grad_accum", "max_steps", "log_every", "eval_batch_size"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be >= 1, got {getattr(args, name)}")
    output_dir = Path(args.output_dir)
    # accelerate launch sets OMP_NUM_THREADS=1, so torch's own default would differ between the launchers
    local_processes = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    torch.set_num_threads(args.threads or max(1, usable // local_processes))
    mixed_precision = args.mixed_precision
    if mixed_precision == "auto":
        on_gpu = torch.cuda.is_available() and not args.cpu
        mixed_precision = "bf16" if on_gpu and torch.cuda.is_bf16_supported() else "no"
    # checkpoints are a few MB: a progress bar per save would only interleave with the log lines
    transformers.utils.logging.disable_progress_bar()
    # T5 ties its embeddings; Accelerate warns on every save that it stored the shared tensor once
    logging.getLogger("accelerate.utils.other").setLevel(logging.ERROR)

    # 2. accelerator and seed
    # cpu=True without a GPU: otherwise a multi-process launch on a CPU machine runs independent copies
    accelerator = Accelerator(
        cpu=args.cpu or not torch.cuda.is_available(),
        mixed_precision=mixed_precision,
        log_with=None if args.report_to == "none" else args.report_to,
        project_dir=str(output_dir),
    )
    main_process = accelerator.is_main_process
    set_seed(args.seed)
    prepare_output_dir(accelerator, args)

    # 3. corpus
    corpus, corpus_config, overrides = build_corpus(accelerator, args)
    training_config = config_yaml(args)
    if main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / training.TRAINING_CONFIG_FILE).write_text(training_config)

    # 4. tokenizer and pre-tokenized splits
    tokenizer = build_tokenizer()
    max_question_length = corpus_config.spec.max_question_length()
    max_answer_length = corpus_config.spec.max_answer_length()
    train_examples, eval_sets = encode_splits(tokenizer, corpus, args, max_question_length)
    train_examples = train_examples.to(accelerator.device)
    periodic_set = eval_sets["validation"].head(args.eval_size)

    # 5. model
    model = create_model(
        args.preset,
        tokenizer,
        max_question_length,
        max_answer_length,
        args.answer_order,
        seed=args.seed,
        **args.model_overrides,
    )

    # 6. optimizer and schedule
    optimizer = training.build_optimizer(model, args.learning_rate, args.weight_decay, args.adam_betas)
    # stepped once per optimizer step by us: Accelerate's scheduler wrapper would step it once per process
    scheduler = training.build_scheduler(
        optimizer, args.warmup_steps, args.max_steps, args.lr_schedule, args.min_lr_ratio
    )

    # 7. prepare, resume, trackers
    model, optimizer = accelerator.prepare(model, optimizer)
    accelerator.register_for_checkpointing(scheduler)  # saved and restored with the checkpoints
    start_step = 0
    if args.resume_from_checkpoint:
        checkpoint = training.resolve_checkpoint(output_dir, args.resume_from_checkpoint)
        start_step = training.load_checkpoint(accelerator, checkpoint)
        if start_step > args.max_steps:
            raise ValueError(f"{checkpoint} is at step {start_step}, beyond --max_steps {args.max_steps}")
        accelerator.print(f"resumed from {checkpoint} at step {start_step}")
    if args.report_to != "none":
        accelerator.init_trackers("tensorboard", config=tracker_config(args))
    world = accelerator.num_processes
    examples_per_step = args.batch_size * args.grad_accum * world
    order = training.BatchOrder(len(train_examples), args.batch_size, args.seed, accelerator.process_index, world)
    parameters = accelerator.unwrap_model(model).num_parameters()
    threads = f"{torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''}"
    accelerator.print(
        f"corpus {args.corpus.name}: train {len(train_examples)}, validation {len(eval_sets['validation'].questions)}"
        f" | {args.preset} {parameters / 1e6:.2f}M parameters | answer order {args.answer_order}\n"
        f"accelerator {accelerator.state.distributed_type.value} | {world} process{'es' if world > 1 else ''} on "
        f"{accelerator.device} | mixed precision {mixed_precision} | {threads} per process\n"
        f"batch {args.batch_size} x {args.grad_accum} accumulated x {world} = {examples_per_step} examples per step | "
        f"{args.max_steps} steps | lr {args.learning_rate:g} {args.lr_schedule}, {args.warmup_steps} warmup steps"
    )

    # 8. training loop
    step_width = max(5, len(str(args.max_steps)))
    window = training.LossWindow(accelerator)
    history, evaluations = [], []
    progress = tqdm(
        total=args.max_steps, initial=start_step, desc="train", disable=not (main_process and args.progress_bar)
    )
    run_start = interval_start = time.perf_counter()
    interval_steps, paused_total = 0, 0.0
    model.train()
    for step in range(start_step, args.max_steps):
        lr = scheduler.get_last_lr()[0]
        micro_batches = [
            train_examples.batch(order.indices(step * args.grad_accum + index)) for index in range(args.grad_accum)
        ]
        loss = training.train_step(accelerator, model, optimizer, scheduler, micro_batches, args.grad_clip)
        done = step + 1
        window.add(done, loss)
        interval_steps += 1
        progress.update(1)

        if done % args.log_every == 0 or done == args.max_steps:
            mean_loss = window.reduce()
            now = time.perf_counter()
            rate = interval_steps * examples_per_step / (now - interval_start)
            elapsed = now - run_start
            eta = elapsed / (done - start_step) * (args.max_steps - done)
            if main_process:
                tqdm.write(
                    f"step {done:0{step_width}d}/{args.max_steps:0{step_width}d} | loss {mean_loss:.6f} | "
                    f"lr {lr:.2e} | {rate:.0f} ex/s | elapsed {format_duration(elapsed)} | eta {format_duration(eta)}"
                )
            history.append({"step": done, "loss": mean_loss, "lr": lr, "examples_per_second": rate})
            accelerator.log({"train/loss": mean_loss, "train/lr": lr, "train/examples_per_second": rate}, step=done)
            interval_start, interval_steps = time.perf_counter(), 0
        if done == args.max_steps:
            break  # the final evaluation and save follow

        paused = time.perf_counter()
        eval_results = None  # a checkpoint holds only the evaluation of its own step
        if args.eval_every and done % args.eval_every == 0:
            window.reduce(reset=False)  # a diverged model is not worth evaluating
            evaluation = evaluate(accelerator, model, tokenizer, periodic_set, args)
            if main_process:
                print_evaluation(evaluation, f"step {done:0{step_width}d}", time.perf_counter() - paused)
                name = f"{args.corpus.name} validation"
                eval_results = {name: evaluation_record(evaluation, "validation", args, overrides)}
                evaluations.append({"step": done, **evaluation.results["overall"]})
                accelerator.log(evaluation_metrics(evaluation, "eval"), step=done)
        if args.save_every and done % args.save_every == 0:
            window.reduce(reset=False)  # never save weights that a nan already reached
            training.save_checkpoint(
                accelerator, model, tokenizer, output_dir, done, training_config, eval_results, args.keep_last
            )
        # evaluations and saves count in elapsed time, not in the examples/s of training
        interval_start += time.perf_counter() - paused
        paused_total += time.perf_counter() - paused
    progress.close()
    train_seconds = time.perf_counter() - run_start - paused_total

    # 9. final evaluation and save
    results = {}
    for split in args.final_eval_splits:
        eval_start = time.perf_counter()
        evaluation = evaluate(accelerator, model, tokenizer, eval_sets[split], args)
        if main_process:
            print_evaluation(evaluation, f"final {split}", time.perf_counter() - eval_start)
            results[f"{args.corpus.name} {split}"] = evaluation_record(evaluation, split, args, overrides)
            accelerator.log(evaluation_metrics(evaluation, f"final_{split}"), step=args.max_steps)
    if args.save_every and start_step < args.max_steps:
        # the last step is a checkpoint too, so a finished run can go on to a larger --max_steps
        training.save_checkpoint(
            accelerator, model, tokenizer, output_dir, args.max_steps, training_config, results or None, args.keep_last
        )
    final_dir = output_dir / "final"
    with training.atomic_directory(accelerator, final_dir) as folder:
        training.write_checkpoint(
            accelerator, model, tokenizer, folder, args.max_steps, training_config, results or None, False
        )
        if main_process and results:
            model_name = args.model_name or f"arith_hf-{args.preset}-{args.corpus.name}"
            write_model_card(folder, results, model_name, args.model_cards_dir)
    # NOTE: torch's gloo process group can deadlock when the DDP wrapper is the last thing holding it (its
    # destructor then joins gloo's worker threads under the GIL). Drop the wrapper on every rank while the
    # process group is alive, so that end_training() destroys the group through the path that releases the GIL.
    accelerator.wait_for_everyone()
    del model, optimizer
    accelerator.free_memory()
    accelerator.end_training()
    steps_run = args.max_steps - start_step
    accelerator.print(f"saved {final_dir} | {steps_run} steps in {format_duration(time.perf_counter() - run_start)}")
    return {
        "final_dir": str(final_dir),
        "step": args.max_steps,
        "results": results,
        "history": history,
        "evaluations": evaluations,
        "examples_per_second": steps_run * examples_per_step / train_seconds if steps_run else math.nan,
        "distributed_type": accelerator.state.distributed_type.value,
        "num_processes": world,
    }


def main(argv: list[str] | None = None) -> dict:
    return train(parse_args(argv))


if __name__ == "__main__":
    try:
        main()
    # what a user can act on gets one line, not a traceback: a diverged run, a run folder in the way, a missing
    # checkpoint or config file
    except (NonFiniteLossError, FileExistsError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
