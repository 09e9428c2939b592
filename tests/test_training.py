"""Tests of arith_hf.training: pre-tokenizing, batch order, schedule, loss checks, evaluation, checkpoints.

    .venv/bin/python -m pytest tests/test_training.py

Two-process behaviour (C18, C19) is tested through the training script in test_train_script.py.
"""

import itertools
import json
import math

import pyarrow as pa
import pytest
import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState

from arith_hf.expressions import ExpressionSampler, ExpressionSpec, solve
from arith_hf.metrics import score_answers
from arith_hf.modeling import create_model
from arith_hf.tokenizer import IGNORE_INDEX, InvalidQuestionError, answer_to_target, build_tokenizer
from arith_hf.training import (
    TRAINER_STATE_FILE,
    BatchOrder,
    Evaluation,
    LossWindow,
    NonFiniteLossError,
    atomic_directory,
    build_optimizer,
    build_scheduler,
    encode_examples,
    evaluate_model,
    list_checkpoints,
    load_checkpoint,
    lr_factor,
    remove_stale_folders,
    resolve_checkpoint,
    save_checkpoint,
    train_step,
    write_checkpoint,
)

# a model small enough that a step takes milliseconds
TINY = dict(d_model=32, d_ff=64, num_layers=1, num_decoder_layers=1, num_heads=2, d_kv=16)


@pytest.fixture(autouse=True)
def fresh_accelerator_state():
    # Accelerate keeps process-wide singletons; each test starts from a clean one
    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="module")
def mixed_samples():
    """Questions with every kind of character: spaces, parentheses, negative literals, fractions."""
    spec = ExpressionSpec(
        max_operand=999,
        operators=("+", "-", "*", "/"),
        max_operands=4,
        max_parens=1,
        max_depth=1,
        negative_prob=0.3,
        spacing="spaces",
        division="decimal",
    )
    sampler = ExpressionSampler(spec, seed=1)
    return [sampler.sample() for _ in range(300)]


def tiny_model(tokenizer, seed=0):
    return create_model("t5-tiny", tokenizer, 9, 5, "reverse", seed=seed, **TINY)


# ---------------------------------------------------------------------------
# Pre-tokenizing


@pytest.mark.parametrize("answer_order", ["natural", "reverse"])
def test_encode_examples_gives_the_tokenizers_ids(tokenizer, mixed_samples, answer_order):
    questions = [sample.question for sample in mixed_samples]
    answers = [sample.answer for sample in mixed_samples]
    encoded = encode_examples(tokenizer, questions, answers, answer_order)

    expected = tokenizer(questions, padding=True, return_tensors="pt")
    assert torch.equal(encoded.input_ids.long(), expected["input_ids"])
    assert encoded.question_lengths.tolist() == expected["attention_mask"].sum(1).tolist()
    targets = [answer_to_target(answer, answer_order) for answer in answers]
    expected_labels = tokenizer(targets, padding=True, return_tensors="pt")["input_ids"]
    expected_labels[expected_labels == tokenizer.pad_token_id] = IGNORE_INDEX
    assert torch.equal(encoded.labels.long(), expected_labels)
    # Arrow columns (how the training script passes a datasets split) give the same tensors
    from_arrow = encode_examples(
        tokenizer, pa.array(questions), pa.chunked_array([answers[:7], answers[7:]]), answer_order
    )
    assert torch.equal(from_arrow.input_ids, encoded.input_ids)
    assert torch.equal(from_arrow.labels, encoded.labels)


def test_encode_examples_labels_end_with_eos(tokenizer):
    encoded = encode_examples(tokenizer, ["2+2", "50+50"], ["4", "100"], "reverse")
    eos = tokenizer.eos_token_id
    assert tokenizer.convert_ids_to_tokens(encoded.labels[1, :3].tolist()) == ["0", "0", "1"]
    assert encoded.labels[0].tolist() == [tokenizer.convert_tokens_to_ids("4"), eos, IGNORE_INDEX, IGNORE_INDEX]
    assert encoded.labels[1, 3] == eos


def test_encode_examples_refuses_what_the_model_must_not_see(tokenizer):
    with pytest.raises(InvalidQuestionError, match=r"question 1 '3×4' has character '×' \(U\+00D7\) at position 1"):
        encode_examples(tokenizer, ["1+2", "3×4"])
    with pytest.raises(InvalidQuestionError, match="question 2 .* has 7 characters; the model accepts at most 6"):
        encode_examples(tokenizer, ["1+2", "3+4", "100+200"], max_question_length=6)


def test_batch_pads_to_the_longest_example_in_it(tokenizer):
    encoded = encode_examples(tokenizer, ["1+2", "12345+6", "7+8"], ["3", "12351", "15"])
    batch = encoded.batch(torch.tensor([0, 2]))
    assert batch["input_ids"].shape == (2, 4)  # "7+8" and eos
    assert batch["input_ids"].dtype == torch.long
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 1, 1]]
    assert batch["labels"].shape == (2, 3)  # "15" and eos
    batch = encoded.batch(torch.tensor([1, 0]))
    assert batch["input_ids"].shape == (2, 8)
    assert batch["attention_mask"].sum(1).tolist() == [8, 4]
    assert batch["labels"].shape == (2, 6)
    assert batch["labels"][1].tolist()[1:] == [tokenizer.eos_token_id] + [IGNORE_INDEX] * 4


# ---------------------------------------------------------------------------
# Batch order


def test_batch_order_is_a_function_of_seed_and_step():
    first, again = BatchOrder(100, 8, seed=3), BatchOrder(100, 8, seed=3)
    steps = [first.indices(step).tolist() for step in range(30)]
    # computed in another order by a fresh object, as a resumed run does
    assert [again.indices(step).tolist() for step in reversed(range(30))] == steps[::-1]
    assert BatchOrder(100, 8, seed=4).indices(0).tolist() != steps[0]
    # every epoch visits every example once: 100 examples are steps 0..11 and half of step 12
    epoch = [index for step in steps[:12] for index in step] + steps[12][:4]
    assert sorted(epoch) == list(range(100))


def test_batch_order_gives_each_rank_its_own_examples():
    """C19 (the order each rank computes): ranks share no example within a step, and together they
    take what a single process with their combined batch would take."""
    ranks = [BatchOrder(1000, 16, seed=0, rank=rank, world_size=3) for rank in range(3)]
    single = BatchOrder(1000, 48, seed=0)
    for step in (0, 1, 20, 62):  # step 20 crosses an epoch boundary
        batches = [order.indices(step).tolist() for order in ranks]
        assert batches[0] != batches[1] != batches[2]
        assert sum(batches, []) == single.indices(step).tolist()
    assert len(set(ranks[0].indices(0).tolist()) | set(ranks[1].indices(0).tolist())) == 32


# ---------------------------------------------------------------------------
# Schedule, train step, loss checks


def test_lr_factor_warms_up_then_decays():
    cosine = [lr_factor(step, 10, 110, "cosine", 0.1) for step in range(110)]
    assert cosine[0] == pytest.approx(0.1) and cosine[9] == 1.0 == cosine[10]
    assert cosine[60] == pytest.approx(0.1 + 0.9 * 0.5)  # half way through the decay
    assert all(a >= b for a, b in itertools.pairwise(cosine[10:]))
    assert lr_factor(110, 10, 110, "cosine", 0.1) == pytest.approx(0.1)
    assert lr_factor(60, 10, 110, "linear") == pytest.approx(0.5)
    assert lr_factor(100, 10, 110, "constant") == 1.0
    with pytest.raises(ValueError, match="lr schedule must be one of"):
        lr_factor(0, 1, 2, "exponential")


def test_train_step_with_accumulation_equals_one_big_batch(tokenizer):
    # answers of one length: the loss is a mean over answer tokens, so equal micro-batches average exactly
    encoded = encode_examples(tokenizer, ["1+12", "34+5", "6+78", "9+9"], ["13", "39", "84", "18"], "reverse")
    results = []
    for groups in ([[0, 1, 2, 3]], [[0, 1], [2, 3]]):
        accelerator = Accelerator(cpu=True)
        model = tiny_model(tokenizer)
        optimizer = build_optimizer(model, 1e-2)
        scheduler = build_scheduler(optimizer, 0, 10)
        model, optimizer = accelerator.prepare(model, optimizer)
        batches = [encoded.batch(torch.tensor(group)) for group in groups]
        loss = train_step(accelerator, model, optimizer, scheduler, batches, grad_clip=1.0)
        results.append((loss, accelerator.unwrap_model(model).lm_head.weight.detach().clone(), scheduler))
        AcceleratorState._reset_state(reset_partial_state=True)
    (loss_one, weights_one, scheduler_one), (loss_two, weights_two, _) = results
    # equal-sized micro-batches: the mean of their mean losses is the loss of the whole batch
    assert loss_two.item() == pytest.approx(loss_one.item(), rel=1e-5)
    assert torch.allclose(weights_one, weights_two, atol=1e-6)
    assert scheduler_one.last_epoch == 1
    assert math.isfinite(loss_one.item()) and loss_one.item() > 1.0


def test_loss_window_names_the_first_non_finite_step():
    window = LossWindow(Accelerator(cpu=True))
    for step, value in [(1, 2.0), (2, 4.0)]:
        window.add(step, torch.tensor(value))
    assert window.reduce(reset=False) == 3.0
    assert window.reduce() == 3.0
    for step, value in [(3, 1.0), (4, float("nan")), (5, float("inf"))]:
        window.add(step, torch.tensor(value))
    with pytest.raises(NonFiniteLossError, match="loss is nan at step 4") as caught:
        window.reduce()
    assert caught.value.step == 4


# ---------------------------------------------------------------------------
# Evaluation, one and two processes


def _nine_questions():
    questions = ["1+1", "2+3", "10+5", "7+0", "12+30", "99+1", "5+5", "3+4", "40+2"]
    answers = [solve(question) for question in questions]
    return questions, answers


def _evaluate_nine(accelerator, tokenizer):
    questions, answers = _nine_questions()
    encoded = encode_examples(tokenizer, questions, answers, "reverse")
    model = accelerator.prepare(tiny_model(tokenizer, seed=5))
    return evaluate_model(
        accelerator, model, tokenizer, encoded, questions, answers, batch_size=5, answer_order="reverse"
    )


def test_evaluation_scores_each_question_once_in_order(tokenizer):
    """C18 on one process: 9 questions in batches of 5 give 9 scored answers, the same as one by one."""
    evaluation = _evaluate_nine(Accelerator(cpu=True), tokenizer)
    assert evaluation.count == 9 == evaluation.results["overall"]["count"]
    assert evaluation.questions == _nine_questions()[0]
    AcceleratorState._reset_state(reset_partial_state=True)
    accelerator = Accelerator(cpu=True)
    model = accelerator.prepare(tiny_model(tokenizer, seed=5))
    one_by_one = []
    for question, answer in zip(*_nine_questions(), strict=True):
        encoded = encode_examples(tokenizer, [question], [answer], "reverse")
        single = evaluate_model(accelerator, model, tokenizer, encoded, [question], [answer], 1, "reverse")
        one_by_one += single.predictions
    assert evaluation.predictions == one_by_one


def test_evaluation_prints_mistakes_and_a_fraction():
    questions, references = _nine_questions()
    predictions = ["2", "5", "15", "7", "41", "100", "10", "7", "2"]
    complete = [True] * 8 + [False]
    evaluation = Evaluation(
        questions, references, predictions, complete, score_answers(questions, predictions, references)
    )
    assert evaluation.mistakes() == [
        "12+30 -> model 41, expected 42",
        "40+2 -> model 2 (cut at the length limit), expected 42",
    ]
    assert evaluation.mistakes(1) == ["12+30 -> model 41, expected 42"]
    assert evaluation.summary() == "7/9 = 77.78% | total abs diff 41 | mean abs diff 4.556 | invalid 0 | cut 1"


# ---------------------------------------------------------------------------
# Checkpoints


def _prepared(tokenizer):
    accelerator = Accelerator(cpu=True)
    model = tiny_model(tokenizer)
    optimizer = build_optimizer(model, 1e-3)
    scheduler = build_scheduler(optimizer, 2, 10)
    model, optimizer = accelerator.prepare(model, optimizer)
    accelerator.register_for_checkpointing(scheduler)
    return accelerator, model, optimizer, scheduler


def test_checkpoint_is_hub_compatible_and_resumable(tokenizer, tmp_path):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    accelerator, model, optimizer, scheduler = _prepared(tokenizer)
    encoded = encode_examples(tokenizer, ["1+2", "34+5"], ["3", "39"], "reverse")
    for _ in range(3):
        train_step(accelerator, model, optimizer, scheduler, [encoded.batch(torch.tensor([0, 1]))])
    path = save_checkpoint(accelerator, model, tokenizer, tmp_path, 3, "seed: 0\n", {"validation": {"x": 1}})
    assert path == tmp_path / "checkpoint-3"
    assert json.loads((path / "eval_results.json").read_text()) == {"step": 3, "validation": {"x": 1}}
    assert (path / "training_config.yaml").read_text() == "seed: 0\n"
    loaded = AutoModelForSeq2SeqLM.from_pretrained(path)
    assert loaded.generation_config.max_new_tokens == 6
    assert AutoTokenizer.from_pretrained(path)("12+3")["input_ids"] == tokenizer("12+3")["input_ids"]
    weights = accelerator.unwrap_model(model).state_dict()
    assert all(torch.equal(loaded.state_dict()[name], tensor) for name, tensor in weights.items())

    AcceleratorState._reset_state(reset_partial_state=True)
    accelerator, model, optimizer, fresh_scheduler = _prepared(tokenizer)
    assert load_checkpoint(accelerator, resolve_checkpoint(tmp_path, "latest")) == 3
    assert fresh_scheduler.last_epoch == 3
    assert fresh_scheduler.get_last_lr() == scheduler.get_last_lr()
    assert optimizer.state_dict()["state"][0]["step"].item() == 3
    restored = accelerator.unwrap_model(model).state_dict()
    assert all(torch.equal(restored[name], tensor) for name, tensor in weights.items())


def test_killed_save_leaves_the_previous_checkpoint_intact(tokenizer, tmp_path):
    accelerator, model, _, _ = _prepared(tokenizer)
    save_checkpoint(accelerator, model, tokenizer, tmp_path, 10)
    before = sorted(path.name for path in (tmp_path / "checkpoint-10").rglob("*"))

    class Killed(Exception):
        pass

    # the run dies after the weights of checkpoint-20 are written, before its folder is complete
    with pytest.raises(Killed), atomic_directory(accelerator, tmp_path / "checkpoint-20") as folder:
        write_checkpoint(accelerator, model, tokenizer, folder, 20)
        raise Killed
    # and while re-saving checkpoint-10 over itself
    with pytest.raises(Killed), atomic_directory(accelerator, tmp_path / "checkpoint-10") as folder:
        (folder / "config.json").write_text("{")
        raise Killed
    assert (tmp_path / ".tmp-checkpoint-20" / TRAINER_STATE_FILE).is_file()
    assert [path.name for path in list_checkpoints(tmp_path)] == ["checkpoint-10"]
    assert resolve_checkpoint(tmp_path, "latest") == tmp_path / "checkpoint-10"
    assert sorted(path.name for path in (tmp_path / "checkpoint-10").rglob("*")) == before
    # the next run clears what the killed one left
    assert {path.name for path in remove_stale_folders(tmp_path)} == {".tmp-checkpoint-20", ".tmp-checkpoint-10"}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["checkpoint-10"]


def test_save_checkpoint_keeps_the_last_k(tokenizer, tmp_path):
    accelerator, model, _, _ = _prepared(tokenizer)
    for step in (5, 10, 15, 20):
        save_checkpoint(accelerator, model, tokenizer, tmp_path, step, keep_last=2)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["checkpoint-15", "checkpoint-20"]
    with pytest.raises(FileNotFoundError, match="is not a complete checkpoint"):
        resolve_checkpoint(tmp_path, str(tmp_path / "checkpoint-5"))
    assert resolve_checkpoint(tmp_path / "nothing", "latest") is None


def test_docstring_examples_run():
    import doctest

    from arith_hf import training

    outcome = doctest.testmod(training)
    assert outcome.attempted >= 2 and outcome.failed == 0
