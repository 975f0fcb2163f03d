"""ESD: ``<spk>/<spk>.txt`` (id TAB text TAB emotion) + ``<spk>/<Emotion>/{train,evaluation,test}/``.

Quirks: 0011's transcript is UTF-8, 0012's UTF-16 with a byte-order mark (and one line whose fields
lost their tabs), 0001's GB2312 with Chinese emotion words; a wav without a transcript line.
"""

from tests.corpus_fixtures import Expected, write_wav

SPEAKERS = {
    "0011": ("utf-8", [("000001", "The nine the eggs, I keep.", "Neutral", "Neutral", "evaluation"),
                       ("000351", "Jill has a new hat.", "Angry", "Angry", "train"),
                       ("000701", "I can't believe it!", "Happy", "Happy", "train"),
                       ("001051", "He was dead, quite dead.", "Sad", "Sad", "test")]),
    "0012": ("utf-16", [("000002", "Many years ago lived an emperor.", "Neutral", "Neutral", "train"),
                        ("001401", "What a surprise!", "Surprise", "Surprise", "evaluation"),
                        ("000352", "Get out of here.", "Angry", "Angry", "test")]),
    "0001": ("gb2312", [("000001", "打远一看，它们的确很是美丽，", "中立", "Neutral", "train"),
                        ("000351", "你在干什么？", "生气", "Angry", "evaluation"),
                        ("000701", "太好了！", "快乐", "Happy", "test")]),
}
LABELS = {"Neutral": "neutral", "Angry": "angry", "Happy": "happy", "Sad": "sad", "Surprise": "surprise"}
OFFICIAL = {"train": "train", "evaluation": "dev", "test": "eval"}


def make(root):
    utts, splits = {}, {}
    for spk, (encoding, rows) in SPEAKERS.items():
        d = root / spk
        d.mkdir(parents=True, exist_ok=True)
        lines = [f"{spk}_{n}\t{text}\t{word}" for n, text, word, _, _ in rows]
        if spk == "0012":
            lines.append(f"{spk}_001355 The fisherman and his wife see George every day. Neutral")
            write_wav(d / "Neutral" / "train" / f"{spk}_001355.wav")
        data = ("\n".join(lines) + "\n").encode(encoding)
        (d / f"{spk}.txt").write_bytes(data)
        for n, text, _, folder, split in rows:
            write_wav(d / folder / split / f"{spk}_{n}.wav")
            utts[f"{spk}_{n}"] = (spk, text, LABELS[folder])
            splits[f"{spk}_{n}"] = OFFICIAL[split]
    write_wav(root / "0011" / "Surprise" / "train" / "0011_001400.wav")  # not in 0011.txt
    (root / "ReadMe.txt").write_text("Emotional Speech Dataset (ESD)\n")
    return Expected(root, utts, {"malformed transcript line": 1, "no transcript": 2}, splits=splits,
                    prep={"speakers": ["0001", "0011", "0012"]})
