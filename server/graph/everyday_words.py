"""The everyday words patients say for the body, what comes out of it and how it feels, each beside the clinical
characters it stands for (屁股 -> 肛门, 大号 -> 便, 疼 -> 痛): morphemes, never a graph's whole symptom names."""
from __future__ import annotations

# "clinical characters: everyday words". A word listed under several lines stands for all of them. A word is
# replaced by its characters, so 小便 gives 尿 and not 便 (小便里带血 is 血尿, not 便血); where a word's own
# characters are clinical too they are listed again (疼 under 疼痛, 鼻涕 under 涕鼻).
ZH_SITES = """
腹: 肚子 肚皮 肚 小肚子 下腹部 肚脐
上腹胃: 心窝 心窝子 上腹部
胃: 胃口 胃部 胃里
胸心胃: 心口
胸: 胸口 胸前 胸部 前胸
胸骨后: 胸口后面 胸骨后面 胸骨后头 胸口里面
咽喉: 嗓子 喉咙 嗓子眼 喉咙口
头: 脑袋 脑壳 脑瓜 脑门 太阳穴 头部 后脑勺
眼: 眼睛
眼球: 眼珠 眼珠子 眼球
眼睑: 眼皮
耳: 耳朵
耳道: 耳朵里 耳朵眼
鼻: 鼻子 鼻孔
口: 嘴 嘴巴 嘴里
口角: 嘴角
牙: 牙齿 牙根 大牙
颈脖子: 脖子 脖颈 颈部 脖梗
后颈: 后脖子 后脖颈 后脖梗
肩: 肩膀 膀子 肩头
臂手: 胳膊 胳臂 手臂 胳膊肘
手指: 手指头 指头
腿下肢: 腿 大腿 小腿 腿脚 两条腿
足脚: 脚 脚丫 脚底 脚底板
手足: 手脚 手和脚
脚趾趾: 脚趾头 脚指头 脚趾
大脚趾趾: 大脚趾头 大脚指头 大拇脚趾 脚拇指
膝关节: 膝盖 波棱盖 膝盖骨
腰: 腰杆 腰眼 后腰 腰上
背: 后背 背上 脊背 脊梁 脊梁骨
肛门: 屁股 屁眼 肛门口 屁股眼
会阴: 下身 私处 裆部
皮肤: 身上 皮肤上 浑身 全身 皮上
面部: 脸 脸上 面部 脸蛋
面色: 脸色 气色 脸
关节: 骨节
"""
ZH = ZH_SITES + """
便: 大便 大号 拉屎 屎 便便 解大便 粑粑
尿: 小便 小号 撒尿 尿尿 解小便 撒的尿 尿出来
尿便: 上厕所 跑厕所 蹲厕所 厕所
涕鼻涕: 鼻涕 鼻水
清涕清水样鼻涕: 清鼻涕 清水鼻涕 清水样鼻涕
脓涕: 黄鼻涕 脓鼻涕 浓鼻涕
痰: 浓痰 黄痰
眼屎分泌物: 眼屎
疼痛: 疼 痛 疼痛 作痛
酸痛疼: 酸疼 酸痛 酸胀
绞痛: 绞着疼 绞痛 一阵一阵 拧着疼
刺痛: 刺痛 针扎 扎着疼 像针扎
灼烧: 火辣辣 火烧 烧得慌 灼热 烧灼 火燎 烧
胀: 胀胀的 鼓胀 发胀 胀得
闷: 憋闷 憋得慌 发闷 闷得慌 压着 透不过
塞: 堵 堵着 不通气 不通 堵住
瘙痒: 痒 刺挠 发痒 痒痒
麻木: 发麻 麻麻的 麻酥酥 没知觉 有点麻 手麻 脚麻 腿麻 麻木
僵硬: 僵 发僵 硬邦邦 发硬 僵住
硬结: 硬疙瘩 硬块 硬包 硬结
沉重感: 沉 发沉 沉沉的 沉甸甸 沉重
震颤: 会跳 乱跳 直跳 跳动 颤动
翻身时体位: 翻个身 翻身 一翻身 躺下 一躺下
肿: 肿胀 肿起来 鼓起来
水肿浮: 肿了 腿肿 脚肿 水肿 浮肿 肿起来
抖颤震: 抖 哆嗦 打颤 发抖 颤
头晕晕眩: 晕 发晕 头昏 天旋地转 转圈
发热热: 发烧 烧起来 体温高 发热
高热: 高烧 烧得厉害 烧到三十九 烧到四十
低热: 低烧 有点烧 有点发烧
午后: 下午 午后
腹泻: 拉肚子 拉稀 闹肚子 跑肚 窜稀 拉水 腹泻
便秘: 拉不出 解不出 大便干 便秘 好几天没大便
恶心: 想吐 犯恶心 反胃 恶心 作呕 干呕
呕吐: 吐 呕 吐了 呕吐
咳痰: 吐痰
咳嗽: 咳 咳嗽 咳个不停
长期慢性: 好久 几个月 一直 老是 总是 好长时间
频: 一直 老是 总是 经常 老想 总想 频繁 动不动 一会儿就 没完
急: 憋不住 忍不住 等不了 来不及
喘息呼吸困难气短: 喘 喘不上气 喘不过气 上不来气 透不过气 憋气 喘气
气短: 气不够用 气急 气短 没气
心悸: 心慌 心跳快 心怦怦 心跳得厉害 心里发慌 心扑通 心跳
乏力: 没力气 没劲 浑身无力 乏 累 疲劳 没精神 提不起劲 没力
食欲减退: 没胃口 吃不下 不想吃饭 食欲不好 胃口不好 胃口差 不想吃
饭后: 吃完饭 饭后 吃饱
入睡困难失眠: 睡不着 入睡难 躺好久 睡不好 失眠
早醒: 醒得早 早早醒 天不亮就醒 又醒了 醒了就睡不着
夜间: 半夜 晚上 夜里 夜间 睡着
晨: 早上 早晨 晨起 起床 早起
多汗汗: 出汗 冒汗 爱出汗 汗多 出虚汗 一身汗
盗汗: 夜里出汗 睡着出汗 半夜出汗
多饮: 口渴 老想喝水 总喝水 喝水多 喝很多水
多尿: 尿多 尿得多 尿量多
夜尿增多: 起夜 晚上尿 夜里尿
消瘦体重下降: 瘦了 掉秤 变瘦 体重轻 瘦
反酸: 泛酸 反酸 酸水 吐酸水
视物模糊: 看不清 看东西模糊 看东西花 眼花 模糊
畏光: 怕光 见光 看见亮光 亮光 刺眼
眼疲劳: 眼睛累 眼睛酸
耳鸣: 嗡嗡 耳朵响 蝉鸣 嗡嗡响
听力下降: 听不清 听不太清 耳背 听不见
打喷嚏: 喷嚏 打喷嚏
风团丘疹: 疙瘩 起包 风疙瘩 鼓包 大包 小包
皮疹疹: 疹子 红点 红疹 起疹
水疱: 水泡 水疱 起泡 长泡 泡泡
成簇带状: 一串 一簇 成片 一大片
脱屑: 脱皮 掉皮屑 皮屑 起皮
渗液渗出: 流水 渗水 流黄水
抽搐: 抽筋 抽风 抽搐 抽动
意识丧失: 晕倒 昏倒 不省人事 昏过去
口角歪斜: 嘴歪 口眼歪斜
肢体无力: 使不上劲 手脚没劲
情绪低落: 心情不好 情绪差 高兴不起来 开心不起来
兴趣减退: 提不起兴趣 没兴趣
坐立不安: 坐不住
动作迟缓: 走路慢 动作慢 变慢了 慢吞吞
单侧: 一侧 一边 半边 单边
搏动性: 一跳一跳 突突跳 一蹦一蹦 跳着疼
咯血: 咳血 痰里带血
血: 带血 出血 有血 见血 血
黑: 发黑 黑的 黑色
苍白白: 发白 苍白 没血色 煞白
黄疸黄: 发黄 皮肤黄 眼睛黄 脸黄
红: 发红 红红 红
"""

# English: the same, matched as whole words (a phrase first).
EN = """
腹: stomach belly tummy abdomen abdominal gut
胃: stomach
胸: chest
咽喉: throat
头: headache my_head head_hurts head_aches
眼: eye eyes
耳: ear ears
鼻: nose
牙: tooth teeth toothache
颈: neck
肩: shoulder shoulders
腰: lower_back
背: back
关节: joint joints
肛门: bottom anus butt
皮肤: skin
便: stool stools poop poo bowel
尿: urine pee peeing urinating urination
疼痛: pain painful hurts hurt hurting ache aches aching sore headache toothache
灼烧: burning burns
瘙痒: itchy itch itching
肿: swollen swelling
僵硬: stiff stiffness
麻木: numb numbness tingling
血: blood bloody
发热热: fever feverish
腹泻: diarrhea diarrhoea
便秘: constipated constipation
恶心: nausea nauseous queasy
呕吐: vomiting vomit throwing
咳嗽: cough coughing
频: frequent frequently often
急: urgent urgently
喘息呼吸困难气短: breathless wheezing wheeze
气短: short_of_breath breath
心悸: palpitations racing
乏力: tired weak fatigue exhausted
食欲减退: appetite
入睡困难失眠: can't_sleep cannot_sleep insomnia
打喷嚏: sneezing sneeze sneezes
涕: runny
反酸: reflux acid
烧心: heartburn
头晕晕眩: dizzy dizziness
晨: morning
疹皮疹: rash rashes spots
手: hand hands
足: foot feet
臂: arm arms
腿: leg legs
指: finger fingers
膝关节: knee knees
趾: toe toes
水疱: blister blisters
风团丘疹: hives welts bumps
痰: phlegm sputum mucus
闷: tight tightness heavy
视物模糊: blurry blurred
黑: black dark tarry
红: red
头晕晕眩: vertigo lightheaded
面面色: face
苍白白: pale
面色: complexion
"""


def parse(table: str) -> dict[str, str]:
    """word -> the clinical characters it stands for (a word under several lines stands for all of them)."""
    out: dict[str, str] = {}
    for line in filter(str.strip, table.splitlines()):
        chars, words = line.split(":", 1)
        for w in words.split():
            w = w.replace("_", " ")
            # a single character keeps itself beside what it stands for (泡 in 泡沫尿, 烧 in 烧心)
            out[w] = out.get(w, w if len(w) == 1 else "") + chars.strip()
    return out
