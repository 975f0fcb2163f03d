"""EmoV-DB (OpenSLR 115): ``cmuarctic.data`` + one folder per archive ``<spk>_<Style>/``."""

from tests.corpus_fixtures import Expected, write_wav

PROMPTS = {
    "0001": "Author of the danger trail, Philip Steels, etc.",
    "0002": "Not at this particular case, Tom, apologized Whittemore.",
    "0003": "For the twentieth time that evening the two men shook hands.",
    "0004": "Lord, but I'm glad to see you again, Phil.",
}
# (folder, file, fs, channels): style words in file names differ from the folders'
FILES = [
    ("bea_Angry", "anger_1-28_0001.wav", 16000, 1),
    ("bea_Angry", "anger_1-28_0002.wav", 16000, 1),
    ("bea_Neutral", "neutral_1-28_0001.wav", 16000, 1),
    ("bea_Amused", "amused_1-15_0003.wav", 44100, 2),  # mixed rates and channels: converted
    ("sam_Sleepy", "sleepiness_1-28_0003.wav", 44100, 1),
    ("sam_Neutral", "neutral_1-28_0004.wav", 16000, 1),
    ("sam_Disgusted", "disgust_1-28_0002.wav", 16000, 1),
    ("jenie_Amused", "amused_1-15_0099.wav", 16000, 1),  # no prompt 0099 in cmuarctic.data
    ("josh_Neutral", "neutral_take2.wav", 16000, 1),  # no prompt number in the name
]
STYLE = {"Angry": "angry", "Neutral": "neutral", "Amused": "amused", "Sleepy": "sleepy", "Disgusted": "disgusted"}


def make(root):
    root.mkdir(parents=True, exist_ok=True)
    lines = [f'( arctic_a{n} "{t}" )' for n, t in PROMPTS.items()] + ['( arctic_b0001 "Will we ever forget it." )']
    (root / "cmuarctic.data").write_text("\n".join(lines) + "\n")
    utts = {}
    for folder, name, fs, channels in FILES:
        write_wav(root / folder / name, fs=fs, channels=channels)
        spk, style = folder.split("_")
        number = name[-8:-4]
        if number in PROMPTS:
            utts[f"{spk}-{name[:-4]}"] = (spk, PROMPTS[number], STYLE[style])
    return Expected(root, utts, {"no prompt text": 1, "no prompt number in file name": 1},
                    prep={"split": {"dev": 1, "eval": 1}})
