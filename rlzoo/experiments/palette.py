"""One colour per agent label, the same in every figure of every report (PNG and HTML).

The colours are seaborn's ``colorblind`` palette (Wong's colour-blind-safe set), as hex
strings so that matplotlib and Plotly read them alike. rlzoo's own agents have fixed
colours; any other label takes the colour its name hashes to (a stable CRC-32, not Python's
salted ``hash``), moving to the next free colour when two labels of one report collide.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

#: seaborn's ``color_palette("colorblind")``.
COLORBLIND = ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#fbafe4", "#949494", "#ece133", "#56b4e9")

#: rlzoo's agents and the benchmark's labels: fixed, so they never depend on what else a report holds.
FIXED = {
    "kerasrl2-dqn": COLORBLIND[0],
    "sb3-ppo": COLORBLIND[1],
    "sb3-dqn": COLORBLIND[2],
    "kerasrl2-dqn (recipe)": COLORBLIND[3],
    "sb3-a2c": COLORBLIND[4],
    "sb3-sac": COLORBLIND[5],
}


def agent_colors(labels: Sequence[str]) -> dict[str, str]:
    """The colour of each label.

    Parameters
    ----------
    labels:
        The labels of one report (any order; duplicates are ignored).

    Returns
    -------
    dict[str, str]
        ``{label: "#rrggbb"}``; distinct labels get distinct colours while there are at most
        ten of them.
    """
    colors = {label: FIXED[label] for label in labels if label in FIXED}
    for label in sorted(set(labels) - set(colors)):
        start = zlib.crc32(label.encode()) % len(COLORBLIND)
        taken = set(colors.values())
        free = [COLORBLIND[(start + i) % len(COLORBLIND)] for i in range(len(COLORBLIND))]
        colors[label] = next((c for c in free if c not in taken), free[0])
    return {label: colors[label] for label in labels}
