"""THCHS-30: ``data/<spk>_<n>.wav`` + ``.wav.trn`` (words / pinyin / phones); ``train/ dev/ test/``
hold links to ``data/`` and ``.trn`` files that only point to ``../data/``. Speakers A2 and A22
make plain corpus names unusable as Kaldi ids (A22_0 sorts before A2_0)."""

import os

from tests.corpus_fixtures import Expected, write_wav

ROWS = [  # (stem, official split, words, pinyin)
    ("A2_0", "train", "绿 是 阳春 烟 景 大块 文章 的 底色", "lv4 shi4 yang2 chun1 yan1 jing3 da4 kuai4 wen2 zhang1 de5 di3 se4"),
    ("A2_1", "train", "他 仅 凭 腰部 的 力量 在 泳道 上下 翻腾", "ta1 jin3 ping2 yao1 bu4 de5 li4 liang4 zai4 yong3 dao4 shang4 xia4 fan1 teng2"),
    ("A2_2", "train", "企业 依靠 技术 挖潜 增效", "qi3 ye4 yi1 kao4 ji4 shu4 wa1 qian2 zeng1 xiao4"),
    ("A22_0", "train", "四月 的 林 峦 更是 绿 得 鲜活 秀媚", "si4 yue4 de5 lin2 luan2 geng4 shi4 lv4 de5 xian1 huo2 xiu4 mei4"),
    ("A22_1", "dev", "菜 做好 了 一 碗 清蒸 武昌鱼", "cai4 zuo4 hao3 le5 yi4 wan3 qing1 zheng1 wu3 chang1 yu2"),
    ("D4_750", "test", "东北军 的 一些 爱国 将士 马 占山", "dong1 bei3 jun1 de5 yi4 xie1 ai4 guo2 jiang4 shi4 ma3 zhan4 shan1"),
    ("D4_751", "test", "王 英汉 被 枪毙 后 部分 余孽 深 藏起来", "wang2 ying1 han4 bei4 qiang1 bi4 hou4 bu4 fen4 yu2 nie4 shen1 cang2 qi3 lai2"),
]


def make(root):
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    utts, splits = {}, {}
    for stem, split, words, pinyin in ROWS:
        write_wav(data / f"{stem}.wav", fs=16000)
        (data / f"{stem}.wav.trn").write_text(f"{words}\n{pinyin}\nl v4 sh ix4\n", encoding="utf-8")
        folder = root / split
        folder.mkdir(exist_ok=True)
        os.symlink(f"../data/{stem}.wav", folder / f"{stem}.wav")
        (folder / f"{stem}.wav.trn").write_text(f"../data/{stem}.wav.trn\n")
        spk = stem.split("_")[0]
        utts[f"{spk}-{stem}"] = (spk, words, "neutral")
        splits[f"{spk}-{stem}"] = {"train": "train", "dev": "dev", "test": "eval"}[split]
    (data / "A2_3.wav.trn").write_text("这 句 没有 录音\nzhe4 ju4 mei2 you3 lu4 yin1\n\n", encoding="utf-8")
    return Expected(root, utts, {"missing audio": 1}, splits=splits,
                    prep={"split": {"mode": "official"}})
