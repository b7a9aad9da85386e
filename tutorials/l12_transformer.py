"""Lecture 12: an encoder–decoder Transformer turns Turkish words into their lemmas, letter by
letter.

ML2021 L12, Transformer. The Turkish treebanks' FORM and LEMMA columns give ~18,000 word types
(``kuyruğa`` → ``kuyruk``, ``olmuştu`` → ``ol``); a tenth of the types is held out, so every test
word is unseen. The encoder (``TransformerEncoderBlock``s) reads the word's characters; the decoder
(``TransformerDecoderBlock``s: masked self-attention, then cross-attention to the encoder) writes
the lemma. Training uses teacher forcing (the decoder sees the gold lemma shifted right), testing
greedy decoding (it sees its own previous outputs). Exact match is compared with three baselines
fitted on the training words: copy the word, strip the longest known suffix, and the most frequent
edit rule of the longest known word ending. Also: a check that the decoder never looks ahead
(changing a later target letter leaves earlier outputs unchanged) and a table of examples.

Full mode (16 minutes measured on 2 busy shared CPU cores): words up to 16 letters, 2 + 2 blocks of
width 64, 24 epochs in batches of 128 words, XLA-compiled, Adam with warm-up and cosine decay (L06).
Lecture run: the same words, one block each of width 32, a few epochs, three seeds; judged: the
Transformer against the copy and suffix baselines, and the masked decoder's blindness to the
future. Smoke: 400 words, 1 epoch, one block each of width 16, run eagerly.
TensorBoard: scalars (loss, next-letter accuracy under teacher forcing, learning rate), Images
``cross_attention/word_N`` (rows: the letters the decoder wrote, columns: the input letters, one
panel per head; a few snapshots during training), Text: the result and example tables.
"""

# %% [markdown]
# **Lecture 12**, "Transformer (上)" (Transformer, part 1), the slides on sequence-to-sequence
# models and the encoder, with the decoder of the lecture's second half, "Transformer (下)": the
# autoregressive decoder, its masked self-attention, cross-attention and teacher forcing.
#
# The encoder reads the input $x$; the decoder writes the output one token at a time, each from what
# it wrote before and, through cross-attention, from the encoder's output. Its masked self-attention
# gives a position no weight on later ones ($\alpha'_{i,j} = 0$ for $j > i$). Training feeds the
# gold prefix (teacher forcing) and minimises
#
# $$L = -\sum_t \ln P(\hat y_t \mid \hat y_1, \dots, \hat y_{t-1}, x);$$
#
# testing decodes greedily, $y_t = \arg\max_y P(y \mid y_1, \dots, y_{t-1}, x)$, feeding back its
# own outputs.
#
# **The question from the course notes:** the notes for lecture 12 stop at its title and ask no
# question; lecture 11's notes only say that "broadly, Transformer means self-attention". The
# tutorial tests the lecture's own claims instead: an encoder–decoder built from self-attention
# learns a sequence-to-sequence task, and the decoder's mask keeps it from seeing the future.
#
# **What this notebook shows.** The task: turn a Turkish word into its lemma, letter by letter
# (`kuyruğa` → `kuyruk`), on about 18,000 word types from the treebanks, a tenth of them held out so
# that every test word is unseen. Three simple baselines are fitted on the training words; one
# Transformer per seed is trained with teacher forcing and tested by greedy decoding, scored by
# exact match. A table of examples shows what it gets right and wrong. Two claims are judged: the
# Transformer beats copying the word and stripping the longest known suffix; the masked decoder does
# not see the future (changing later target letters leaves earlier outputs unchanged).

# %% [markdown]
# Away from a machine set up with `make setup` (a laptop, Colab), the next cell fetches the data
# sets that are missing, checksummed; where they are present it only checks them. (In the script
# this line is a comment.)

# %%
# %run -m mlcourse data prepare --download

# %%
import keras
import numpy as np

from mlcourse import runner, verdicts
from mlcourse.callbacks.cross_attention_maps import CrossAttentionMaps
from mlcourse.data import tagged_text
from mlcourse.models import seq2seq
from mlcourse.models.lemma_baselines import EndingRuleLemmatizer, LongestSuffixStripper
from mlcourse.schedules import WarmupThenDecay

# %% [markdown]
# The run's settings. A script reads its command-line flags instead (`--smoke`, `--full`,
# `--seed`, `--logdir`, `--epochs 24` ...); here, change them and run the notebook again.
# `smoke` is a plumbing check whose numbers mean nothing; `lecture` shows the lecture's effect in a
# few minutes on 2 CPU cores; `full` gives the headline figures.

# %% tags=["parameters"]
mode = "lecture"  # "smoke" (--smoke), "lecture" (no flag) or "full" (--full)
seed = 0  # --seed
logdir = None  # --logdir; None: $MLCOURSE_LOGDIR, else the repository's logs/
options = {}  # this tutorial's options (listed below), e.g. {"epochs": 24} for --epochs 24

# %% [markdown]
# The tutorial's metadata and options, each with its value in the three modes
# (`mlcourse run l12-transformer --help` lists them too).

# %%
TUTORIAL = {
    "id": "l12-transformer",
    "lecture": "12",
    "title": "Transformer encoder-decoder: Turkish word to lemma",
}
OPTIONS = {
    "epochs": {"kind": "count", "smoke": 1, "lecture": 5, "full": 24, "help": "epochs"},
    "units": {"kind": "count", "smoke": 16, "lecture": 32, "full": 64, "help": "model width"},
    "layers": {
        "kind": "count",
        "smoke": 1,
        "lecture": 1,
        "full": 2,
        "help": "encoder and decoder blocks",
    },
    "learning_rate": {"kind": "positive", "default": 2e-3, "lecture": 4e-3, "help": "peak rate"},
    "dropout": {"kind": "rate", "default": 0.1, "help": "dropout inside the blocks"},
    "words": {
        "kind": "count",
        "smoke": 400,
        "default": 1000000,
        "help": "word types used (at most all, about 18,000)",
    },
    "jit": {
        "kind": "switch",
        "smoke": False,
        "default": True,
        "help": "XLA-compile the training step",
    },
    "seeds": {"kind": "count", "smoke": 1, "lecture": 3, "full": 1, "help": "seeds"},
}
MAX_LETTERS = 16  # words up to 16 letters (99.7 % of the types), lemmas up to 15 (+ </s>)
METHOD = "Transformer, greedy decoding"


# %% [markdown]
# ## The data and the baselines
#
# `load_data` keeps the words of up to 16 letters (`MAX_LETTERS`), draws `words` of them if asked,
# and holds out a tenth of the word types, so the test measures unseen words. `baselines` fits the
# rules on the training pairs only: copy the word, strip the longest suffix seen in training, and
# apply the most frequent edit rule of the longest known word ending.


# %%
def load_data(config):
    """Word-type pairs, split so that every test word is unseen in training."""
    pairs = [
        (w, lemma)
        for w, lemma in tagged_text.load_lemma_pairs("both")
        if len(w) <= MAX_LETTERS and len(lemma) < MAX_LETTERS
    ]
    if config.words < len(pairs):
        chosen = np.random.default_rng(config.seed).choice(len(pairs), config.words, replace=False)
        pairs = [pairs[i] for i in sorted(chosen)]
    return tagged_text.split(pairs, held_out=0.1, seed=config.seed)


def baselines(train, words):
    """Predictions of the counting baselines, fitted on the training pairs only."""
    return {
        "copy the word": list(words),
        "strip the longest known suffix": LongestSuffixStripper().fit(train).predict(words),
        "most frequent rule of the longest known ending": EndingRuleLemmatizer()
        .fit(train)
        .predict(words),
    }


# %% [markdown]
# ## The mask, measured
#
# `causal_check` feeds the trained model 256 test words twice: with the gold target letters, and
# with the letters from position $k$ on replaced by random ones ($k$ = 1, 4, 8). If the decoder's
# masked self-attention works, every output before $k$ stays the same (change below $10^{-5}$) while
# the outputs from $k$ on do change (above $10^{-3}$). A table and a verdict.


# %%
def causal_check(run, model, source, decoder_in, seed):
    """The decoder's mask, measured: change target letters from position k on,
    compare the outputs.
    """
    rng = np.random.default_rng(seed)
    rows = []
    before = keras.ops.convert_to_numpy(model([source, decoder_in], training=False))
    for k in (1, 4, 8):
        changed = decoder_in.copy()
        changed[:, k:] = rng.integers(4, int(decoder_in.max()) + 1, size=changed[:, k:].shape)
        after = keras.ops.convert_to_numpy(model([source, changed], training=False))
        rows.append(
            {
                "target letters changed": f"positions >= {k}",
                "max output change before k": float(np.abs(after[:, :k] - before[:, :k]).max()),
                "max output change from k on": float(np.abs(after[:, k:] - before[:, k:]).max()),
            }
        )
    run.table("Masked self-attention: a future target letter does not change earlier outputs", rows)
    before = max(row["max output change before k"] for row in rows)
    after = min(row["max output change from k on"] for row in rows)
    run.verdict(
        "The decoder's masked self-attention does not see the future: changing target letters "
        "from position k on leaves every output before k unchanged",
        f"largest change of an output before k: {before:.1e}; smallest largest change from k on: "
        f"{after:.1e} (k = 1, 4, 8)",
        bool(before < 1e-5 and after > 1e-3),
    )


# %% [markdown]
# `examples` lists a few unseen words in three groups: the Transformer right and the ending rules
# wrong, the other way round, and both wrong.


# %%
def examples(run, words, gold, predicted, rules, count=4):
    """Words the Transformer gets and the rules miss, the other way round, and both miss."""
    groups = {
        "transformer only": lambda i: predicted[i] == gold[i] != rules[i],
        "rules only": lambda i: rules[i] == gold[i] != predicted[i],
        "neither": lambda i: gold[i] not in (predicted[i], rules[i]),
    }
    rows = []
    for name, test in groups.items():
        rows += [
            {
                "word": words[i],
                "gold lemma": gold[i],
                "transformer": predicted[i],
                "ending rules": rules[i],
                "right": name,
            }
            for i in [i for i in range(len(words)) if test(i)][:count]
        ]
    run.table("Examples: unseen words, gold lemma and predictions", rows)


# %% [markdown]
# ## The model and its training
#
# `train_transformer` turns the pairs into three arrays: the word's letters (the encoder's input),
# `<s>` + the lemma (the decoder's input: teacher forcing) and the lemma + `</s>` (the targets,
# padding weighs 0). The encoder–decoder has `layers` blocks each, 4 heads, width `units`; Adam with
# a warm-up then a cosine decay (lecture 6), trained through `run.fit`. `first_seed_maps` draws the
# cross-attention of a few words whose lemma differs from the word, a few times during training.


# %%
def train_transformer(run, config, seed, train, test, vocabulary, maps=()):
    """One encoder-decoder, trained with teacher forcing; the model."""
    x_train, in_train, out_train = seq2seq.seq2seq_arrays(
        train, vocabulary, MAX_LETTERS, MAX_LETTERS
    )
    x_test, in_test, out_test = seq2seq.seq2seq_arrays(test, vocabulary, MAX_LETTERS, MAX_LETTERS)
    steps = config.epochs * -(-len(train) // run.global_batch(128))  # run.fit: 128 per replica
    keras.utils.set_random_seed(seed)
    with run.scope():
        model = seq2seq.transformer_seq2seq(
            len(vocabulary),
            MAX_LETTERS,
            MAX_LETTERS,
            units=config.units,
            num_heads=4,
            ff_dim=2 * config.units,
            num_layers=config.layers,
            dropout=config.dropout,
        )
        warmup = min(300, steps // 10)
        schedule = WarmupThenDecay(config.learning_rate, warmup, max(1, steps - warmup))  # L06
        model.compile(
            keras.optimizers.Adam(schedule),
            "sparse_categorical_crossentropy",
            weighted_metrics=["accuracy"],
            jit_compile=config.jit,
            run_eagerly=run.smoke,  # a smoke run's few steps: tracing costs more than running
        )
    run.fit(
        f"transformer-seed{seed}",
        model,
        [x_train, in_train],
        out_train,
        sample_weight=out_train > 0,
        batch_size=128,
        epochs=config.epochs,
        validation_data=([x_test, in_test], out_test, out_test > 0),
        callbacks=list(maps),
    )
    return model


def first_seed_maps(run, seed, words, gold, shown, vocabulary, config):
    """The cross-attention maps of a few words whose lemma differs, drawn during training."""
    return CrossAttentionMaps(
        run.variant_dir(f"transformer-seed{seed}"),
        [words[i] for i in shown],
        vocabulary,
        MAX_LETTERS,
        gold=[gold[i] for i in shown],
        every=max(1, config.epochs // 5),
    )


# %% [markdown]
# `train_seeds` trains one Transformer per seed, decodes the unseen words greedily and scores the
# exact match; the first seed also draws its cross-attention maps, and its predictions go into the
# tables.


# %%
def train_seeds(run, config, train, test, vocabulary):
    """One Transformer per seed, each scored by exact match on the unseen words.

    The first seed also draws its cross-attention maps; returns the models, their scores and
    the first seed's predicted lemmas.
    """
    words, gold = [w for w, _ in test], [lemma for _, lemma in test]
    x_test, _, _ = seq2seq.seq2seq_arrays(test, vocabulary, MAX_LETTERS, MAX_LETTERS)
    start, end = vocabulary.index(seq2seq.START), vocabulary.index(seq2seq.END)
    shown = [i for i, w in enumerate(words) if gold[i] != w and len(w) >= 6]
    shown = shown[: 2 if run.smoke else 4]
    models, scores, first = [], [], None
    for seed in run.seeds(config.seeds):
        maps = (
            [] if models else [first_seed_maps(run, seed, words, gold, shown, vocabulary, config)]
        )
        model = train_transformer(run, config, seed, train, test, vocabulary, maps)
        decoded = seq2seq.greedy_decode(model, x_test, MAX_LETTERS, start, end)
        predicted = seq2seq.decode(decoded, vocabulary)
        first = first or predicted
        scores.append(seq2seq.exact_match(predicted, gold))
        models.append(model)
    return models, scores, first


# %% [markdown]
# ## The results and the verdict
#
# `results_table`: exact match of every method on all unseen words and on the words whose lemma
# differs from the word (where copying cannot help); the Transformer's row adds every seed's score,
# its parameters and training seconds. `judge` compares the Transformer's scores over the seeds with
# the better of the two simplest baselines, copying and suffix stripping.


# %%
def results_table(run, train, test, guesses, models, scores):
    """Exact match of every method, on all unseen words and on those whose lemma differs."""
    words, gold = [w for w, _ in test], [lemma for _, lemma in test]
    changed = [i for i in range(len(test)) if gold[i] != words[i]]
    rows = [
        {
            "method": name,
            "exact match": seq2seq.exact_match(p, gold),
            "words whose lemma differs": seq2seq.exact_match(
                [p[i] for i in changed], [gold[i] for i in changed]
            ),
        }
        for name, p in guesses.items()
    ]
    rows[-1].update(
        {
            "exact match, every seed": verdicts.spread(scores),
            "parameters": models[0].count_params(),
            "train s": run.seconds(f"transformer-seed{run.seeds(1)[0]}"),
        }
    )
    run.table(
        f"Word -> lemma: exact match on {len(test)} unseen words ({len(train)} training words)",
        rows,
    )


def judge(run, test, guesses, scores):
    """The Transformer against the two simplest rules, over seeds."""
    gold = [lemma for _, lemma in test]
    simple = {
        name: seq2seq.exact_match(p, gold)
        for name, p in guesses.items()
        if name in ("copy the word", "strip the longest known suffix")
    }
    run.verdict(
        "The Transformer (encoder reads the word, decoder writes the lemma letter by letter) "
        "beats copying the word and stripping the longest known suffix",
        f"exact match on {len(test)} unseen words: Transformer {verdicts.spread(scores)}; "
        + ", ".join(f"{name} {score:.3f}" for name, score in simple.items()),
        verdicts.exceeds(scores, max(simple.values())),
        seeds=len(scores),
        reason="a few epochs of a small model are not enough here: see --full",
    )


# %% [markdown]
# ## The whole run
#
# `main` loads and splits the pairs and builds the letter vocabulary from the training pairs. Inside
# `runner.Run`: the baselines, one Transformer per seed, the result table, the verdict on the
# baselines, the examples (against the ending rules) and the mask check on the first seed's model.
# Run the cell again and a finished run is shown, not repeated; a run that was interrupted resumes.


# %%
def main(config):
    train, test = load_data(config)
    words, gold = [w for w, _ in test], [lemma for _, lemma in test]
    vocabulary = seq2seq.char_vocabulary([c for pair in train for c in pair])
    x_test, in_test, _ = seq2seq.seq2seq_arrays(test, vocabulary, MAX_LETTERS, MAX_LETTERS)
    with runner.Run(TUTORIAL, config) as run:
        guesses = baselines(train, words)
        models, scores, guesses[METHOD] = train_seeds(run, config, train, test, vocabulary)
        results_table(run, train, test, guesses, models, scores)
        judge(run, test, guesses, scores)
        rules = guesses["most frequent rule of the longest known ending"]
        examples(run, words, gold, guesses[METHOD], rules)
        causal_check(run, models[0], x_test[:256], in_test[:256], config.seed)


# %% [markdown]
# ## Run it
#
# What to expect: one training log per seed; the lecture run trains one encoder and one decoder
# block of width 32 for 5 epochs with three seeds, `--full` 2 + 2 blocks of width 64 for 24 epochs
# with one seed. Then the result table, the examples, the mask table, and the verdict table closes
# the run. A few epochs of a small model may not beat the baselines; the verdict then says so.

# %%
if __name__ == "__main__":
    runner.script(
        main, TUTORIAL, OPTIONS, __doc__, mode=mode, seed=seed, logdir=logdir, options=options
    )

# %% [markdown]
# ## Look at it in TensorBoard
#
# Scalars (per seed, `transformer-seed0` ...): `epoch_loss`, `epoch_accuracy` (the next-letter
# accuracy under teacher forcing, not the exact match of greedy decoding) and `epoch_learning_rate`
# (the warm-up, then the decay). Images: `cross_attention/word_N`, rows the letters the decoder
# wrote, columns the input letters, one panel per head, a few snapshots during training: which input
# letters each output letter looks at. Text: the verdicts and the tables. (The cell starts
# TensorBoard inside the notebook; from a terminal, `mlcourse board l12-transformer`.)

# %% tags=["skip-execution"]
# %load_ext tensorboard
# %tensorboard --logdir {runner.logdir_of(TUTORIAL, logdir)}
