"""JSUT 1.1: ``<subset>/transcript_utf8.txt`` (``ID:text``) + ``<subset>/wav/ID.wav`` at 48 kHz."""

from tests.corpus_fixtures import Expected, write_wav

SUBSETS = {
    "basic5000": [
        ("BASIC5000_0001", "水をマレーシアから買わなくてはならないのです。"),
        ("BASIC5000_0002", "木曜日、停戦会談は、何の進展もないまま終了しました。"),
        ("BASIC5000_0003", "上院議員は私がデータをゆがめたと告発した。"),
    ],
    "voiceactress100": [
        ("VOICEACTRESS100_001", "また、東寺のように、五大明王と呼ばれる、主要な明王の中央に配されることも多い。"),
        ("VOICEACTRESS100_002", "ニューイングランド風は、牛乳をベースとした、白いクリームスープであり、ボストンクラムチャウダーとも呼ばれる。"),
    ],
}


def make(root):
    utts = {}
    for subset, rows in SUBSETS.items():
        d = root / subset
        (d / "wav").mkdir(parents=True, exist_ok=True)
        lines = [f"{utt}:{text}" for utt, text in rows]
        if subset == "basic5000":
            lines.append("BASIC5000_0004 a line without the colon")
        (d / "transcript_utf8.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        for utt, text in rows:
            write_wav(d / "wav" / f"{utt}.wav", fs=48000)
            utts[f"jsut-{utt}"] = ("jsut", text, "neutral")
    (root / "README.md").write_text("JSUT\n")
    return Expected(root, utts, {"malformed transcript line": 1}, prep={"split": {"dev": 1, "eval": 1}, "nj": 2})
