"""CMU ARCTIC: ``cmu_us_<spk>_arctic/etc/txt.done.data`` + ``wav/arctic_*.wav`` (16 kHz)."""

from tests.corpus_fixtures import Expected, write_wav

PROMPTS = [
    ("arctic_a0001", "Author of the danger trail, Philip Steels, etc."),
    ("arctic_a0002", "Not at this particular case, Tom, apologized Whittemore."),
    ("arctic_a0003", "For the twentieth time that evening the two men shook hands."),
    ("arctic_b0001", "Will we ever forget it."),
]


def make(root):
    utts, drops = {}, {"malformed prompt line": 1, "missing audio": 1, "speaker without etc/txt.done.data": 1}
    for spk in ("bdl", "slt"):
        base = root / f"cmu_us_{spk}_arctic"
        lines = [f'( {p} "{t}" )' for p, t in PROMPTS]
        if spk == "bdl":
            lines.insert(2, "arctic_a0099 without the festival brackets")
        (base / "etc").mkdir(parents=True, exist_ok=True)
        (base / "etc" / "txt.done.data").write_text("\n".join(lines) + "\n")
        for prompt, text in PROMPTS:
            if spk == "slt" and prompt == "arctic_b0001":
                continue  # listed but not recorded
            write_wav(base / "wav" / f"{prompt}.wav", fs=16000)
            utts[f"{spk}-{prompt}"] = (spk, text, "neutral")
    (root / "cmu_us_awb_arctic" / "wav").mkdir(parents=True)  # a speaker not selected in the conf
    return Expected(root, utts, drops, prep={"speakers": ["bdl", "slt"], "split": {"dev": 1, "eval": 1}})
