"""ESD in either release, under its top folder ``Emotion Speech Dataset`` (spaces in the name):

* ``layout="no_split_folders"`` (today's archive, the default): ``<spk>/<Emotion>/<spk>_<n>.wav``;
* ``layout="split_folders"`` (the first release): ``<spk>/<Emotion>/{train,evaluation,test}/``.

Each speaker's ``<spk>/<spk>.txt`` is ``id TAB text TAB emotion``. Utterance numbers follow the
corpus: blocks of 350 per emotion (Neutral 1-350, Angry 351-700, Happy 701-1050, Sad 1051-1400,
Surprise 1401-1750), position 1-20 of a block evaluation, 21-50 test, 51-350 train; the split
folders of the first release agree with the numbers. Quirks: 0011's transcript is UTF-8, 0012's
UTF-16 with a byte-order mark (and one line whose fields lost their tabs), 0001's GB2312 with
Chinese emotion words; a wav without a transcript line; a ReadMe.txt beside the speaker folders.
"""

from tests.corpus_fixtures import Expected, write_wav

TOP_FOLDER = "Emotion Speech Dataset"
SPEAKERS = {  # speaker: (transcript encoding, [(number, text, emotion word, folder, release-1 split folder)])
    "0011": ("utf-8", [("000001", "The nine the eggs, I keep.", "Neutral", "Neutral", "evaluation"),
                       ("000401", "Jill has a new hat.", "Angry", "Angry", "train"),
                       ("000760", "I can't believe it!", "Happy", "Happy", "train"),
                       ("001080", "He was dead, quite dead.", "Sad", "Sad", "test")]),
    "0012": ("utf-16", [("000102", "Many years ago lived an emperor.", "Neutral", "Neutral", "train"),
                        ("001405", "What a surprise!", "Surprise", "Surprise", "evaluation"),
                        ("000372", "Get out of here.", "Angry", "Angry", "test")]),
    "0001": ("gb2312", [("000051", "打远一看，它们的确很是美丽，", "中立", "Neutral", "train"),
                        ("000355", "你在干什么？", "生气", "Angry", "evaluation"),
                        ("000721", "太好了！", "快乐", "Happy", "test")]),
}
LABELS = {"Neutral": "neutral", "Angry": "angry", "Happy": "happy", "Sad": "sad", "Surprise": "surprise"}
OFFICIAL = {"train": "train", "evaluation": "dev", "test": "eval"}
LAYOUTS = ("no_split_folders", "split_folders")


def make(root, layout: str = "no_split_folders"):
    assert layout in LAYOUTS, layout
    top = root / TOP_FOLDER

    def wav_path(spk, folder, split, name):
        d = top / spk / folder
        return (d / split if layout == "split_folders" else d) / f"{name}.wav"

    utts, splits = {}, {}
    for spk, (encoding, rows) in SPEAKERS.items():
        d = top / spk
        d.mkdir(parents=True, exist_ok=True)
        lines = [f"{spk}_{n}\t{text}\t{word}" for n, text, word, _, _ in rows]
        if spk == "0012":
            lines.append(f"{spk}_000155 The fisherman and his wife see George every day. Neutral")
            write_wav(wav_path(spk, "Neutral", "train", f"{spk}_000155"))
        data = ("\n".join(lines) + "\n").encode(encoding)
        (d / f"{spk}.txt").write_bytes(data)
        for n, text, _, folder, split in rows:
            write_wav(wav_path(spk, folder, split, f"{spk}_{n}"))
            utts[f"{spk}_{n}"] = (spk, text, LABELS[folder])
            splits[f"{spk}_{n}"] = OFFICIAL[split]
    write_wav(wav_path("0011", "Surprise", "train", "0011_001600"))  # not in 0011.txt
    (top / "ReadMe.txt").write_text("Emotional Speech Dataset (ESD)\n")
    return Expected(top, utts, {"malformed transcript line": 1, "no transcript": 2}, splits=splits,
                    prep={"speakers": ["0001", "0011", "0012"]})
