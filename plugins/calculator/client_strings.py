"""Strings the calculator's scripts show, translated on the server (``HI.t`` in the scripts).

Placeholders are written ``%(name)s`` and replaced by the script.
"""

from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory("hashinsight")

CLIENT_STRINGS = [
    _("Please check the numbers marked in red."),
    _("Please check the numbers."),
    _("just now"),
    _("%(n)s min ago"),
    _("%(n)s h ago"),
    _("%(n)s days ago"),
    _("Market"),
    _("Market values used"),
    _("stale"),
    _("your value"),
    _("differs"),
    _("net"),
    _("never"),
    _("months"),
    _("Remove"),
    _("Copied"),
    _("Halving"),
    _("Payback"),
    _("Months from now"),
    _("Profit per day"),
    _("Input lower"),
    _("Input higher"),
    _("No payback within the horizon."),
    _("Pays back after %(n)s months."),
    _("Next halving around %(date)s."),
    _("%(paths)s market paths: the band holds 8 in 10 of them."),
    _("Chance of payback within the horizon: %(p)s"),
    # Inputs, as the tornado chart names them.
    _("BTC price"),
    _("Network difficulty"),
    _("Block height"),
    _("Hashrate"),
    _("Power"),
    _("Electricity price"),
    _("Fees per block"),
    _("Pool fee"),
    _("Firmware fee"),
    _("Uptime"),
    _("Curtailed hours"),
    _("Idle draw"),
    _("PUE (overhead)"),
    _("Hosting, flat"),
    _("Hosting, metered"),
    _("Host's revenue share"),
    _("Price per machine"),
    # Revenue methods and what they mean.
    _("Difficulty formula"),
    _("Share of network hashrate"),
    _("Hashprice index"),
    _("Pool payouts"),
    _("What an FPPS pool pays on."),
    _("Derived from the difficulty: not an independent check."),
    _("Observed hashrate: differs by luck and growth since the last adjustment."),
    _("A published index."),
    _("After the pool fee."),
    # The batch page.
    _("Uploading…"),
    _("Calculating…"),
    _("Downloading…"),
    _("%(n)s scenarios"),
    _("Showing the first %(shown)s: the downloads hold all of them."),
    _("Choose at least one model."),
    _("Choose a CSV or Excel file."),
]
