"""The kit's permission names and which one each command needs (SPEC H1–H3).

Plain data, imported by the standard's loader (an unknown permission name in ``roles.toml`` is
refused at load) and by :mod:`complaintkit.parts.permissions.rules`. A command's ``action`` is
looked up exactly first (``boss:itemised_records``), then by its family, the text before the
first ``:`` (``timer:near`` → ``timer``), the way timer kinds are routed.
"""

from __future__ import annotations

#: what the front desk may do by default (SPEC H1, S001 ch. 3 §6): the CRM/BOSS look-ups and
#: changes of the first line, and the scripted answers
H1: dict[str, str] = {
    "customer.basic_info": "customer basic information (基本信息查询)",
    "customer.subscriptions": "the customer's subscriptions (客户订购信息查询)",
    "customer.monthly_bill": "the monthly bill (月账单查询)",
    "customer.package_usage": "package usage (套餐使用情况查询)",
    "customer.marketing_activities": "marketing activities taken up (营销活动开通情况)",
    "monternet.query": "Monternet subscriptions (梦网业务查询)",
    "monternet.unsubscribe": "unsubscribing a Monternet service (梦网业务退订)",
    "monternet.info_switch": "the Monternet information switch (梦网业务信息服务开关)",
    "customer.payment_records": "payment records (缴费记录查询)",
    "package.change": "changing the package (套餐变更)",
    "group_service.query": "group services (集团业务查询)",
    "group_service.unsubscribe": "unsubscribing a group service (集团业务退订)",
    "scripts.outage": "the scripted answer for a sudden outage (突发故障口径)",
    "scripts.coverage": "the scripted answer for long-term coverage problems (长期网络覆盖问题口径)",
    "scripts.system_change": "the scripted answer for temporary system changes (临时系统调整口径)",
}

#: opened to the back office (SPEC H2, S001 ch. 4 §5); the promise within an amount to the front desk
H2: dict[str, str] = {
    "customer.itemised_records": "itemised call records (详单查询)",
    "refund.execute": "refunding in the BOSS (退费操作)",
    "refund.promise": "promising a refund within the role's amount authorisation (承诺性受理)",
}

#: the ticket's lifecycle (SPEC A–C)
TICKET: dict[str, str] = {
    "ticket.accept": "accept a complaint (受理)",
    "ticket.follow_up": "open an online follow-up (在线处理跟进)",
    "ticket.warm_transfer": "warm-transfer a call with its notes",
    "ticket.dispatch": "dispatch a ticket to a department (派单)",
    "ticket.handle": "take a ticket into handling",
    "ticket.forward": "forward a ticket to another department (转派)",
    "ticket.record": "record verification, contacts, result and satisfaction",
    "ticket.reply": "reply the handling result",
    "ticket.return_visit": "start the return visit (回访)",
    "ticket.archive": "archive a ticket (归档)",
    "ticket.reclassify": "change a ticket's category",
    "ticket.reactivate": "reactivate a replied ticket",
    "ticket.pause": "pause and resume a ticket's clock while waiting on the customer",
    "ticket.command": "run any rule on one ticket (kit.command, the 0.1 API)",
    "ticket.mark": "mark a ticket major, sensitive or a potential escalation, at acceptance or later (E1, E5)",
    "ticket.arbitrate": "decide the lead department of a misdispatched ticket (错派仲裁, D5)",
}

#: the monthly quality inspection (SPEC I1)
QUALITY: dict[str, str] = {
    "quality.sample": "start a month's sampling cycle by hand",
    "quality.inspect": "record an inspection's scorecard (质检)",
}

#: the kit's own work: only the system actor holds these, and no role of a standard may
SYSTEM: dict[str, str] = {
    "system.timer": "fire a due timer",
    "system.detector": "run a scheduled detector and what it finds",
    "system.inbound": "handle a customer's SMS or a delivery receipt",
}

#: every permission the kit knows, with what it allows
PERMISSIONS: dict[str, str] = {**H1, **H2, **TICKET, **QUALITY, **SYSTEM}

#: permissions whose resource carries an amount, checked against the role's ``refund_limit_fen``
AMOUNT_LIMITED: frozenset[str] = frozenset({"refund.promise", "refund.execute"})

#: the BOSS/CRM actions of the kit (``kit.parts.boss.<name>``) and the permission each needs
BOSS_ACTIONS: dict[str, str] = {
    "basic_info": "customer.basic_info",
    "subscriptions": "customer.subscriptions",
    "monthly_bill": "customer.monthly_bill",
    "package_usage": "customer.package_usage",
    "marketing_activities": "customer.marketing_activities",
    "monternet_query": "monternet.query",
    "monternet_unsubscribe": "monternet.unsubscribe",
    "monternet_info_switch": "monternet.info_switch",
    "payment_records": "customer.payment_records",
    "change_package": "package.change",
    "group_services": "group_service.query",
    "group_service_unsubscribe": "group_service.unsubscribe",
    "script_outage": "scripts.outage",
    "script_coverage": "scripts.coverage",
    "script_system_change": "scripts.system_change",
    "itemised_records": "customer.itemised_records",
    "refund": "refund.execute",
    "refund_promise": "refund.promise",
}

#: the permission each of the kit's own command actions needs (exact action, or its family)
ACTIONS: dict[str, str] = {
    "accept": "ticket.accept",
    "open_follow_up": "ticket.follow_up",
    "warm_transfer": "ticket.warm_transfer",
    "dispatch": "ticket.dispatch",
    "handle": "ticket.handle",
    "forward": "ticket.forward",
    "record": "ticket.record",
    "reply": "ticket.reply",
    "return_visit": "ticket.return_visit",
    "archive": "ticket.archive",
    "reclassify": "ticket.reclassify",
    "reactivate": "ticket.reactivate",
    "pause": "ticket.pause",
    "resume": "ticket.pause",
    "command": "ticket.command",
    "timer": "system.timer",
    "detector": "system.detector",
    "recompute_provisional": "system.detector",
    "sms": "system.inbound",
    "receipt": "system.inbound",
    "quality_cycle": "quality.sample",
    "quality_cycle:detector": "system.detector",
    "quality_inspect": "quality.inspect",
    # return visits and remedy (SPEC G1–G5): whoever does return visits does these
    "send_survey": "ticket.return_visit",
    "record_visit": "ticket.return_visit",
    "contact_attempt": "ticket.return_visit",
    "open_remedy": "ticket.return_visit",
    "answer_survey": "system.inbound",
    "survey_expired": "system.timer",
    # dispatch and the special tickets (SPEC A6, B3, D1–D6, E1–E6)
    "pick_up": "ticket.handle",
    "green_channel": "ticket.handle",
    "misdispatch": "ticket.forward",
    "arbitrate": "ticket.arbitrate",
    "mark": "ticket.mark",
    "record_batch_callers": "ticket.accept",
    "clear_batch_warning": "ticket.reply",
    "call": "system.inbound",
    # tracking long cases (SPEC F1, F2): the handler who replies marks and replies
    "mark_tracking": "ticket.reply",
    "tracking_reply": "ticket.reply",
    "tracking_round": "system.timer",
    **{f"boss:{name}": permission for name, permission in BOSS_ACTIONS.items()},
}

__all__ = ["ACTIONS", "AMOUNT_LIMITED", "BOSS_ACTIONS", "H1", "H2", "PERMISSIONS", "QUALITY", "SYSTEM", "TICKET"]
