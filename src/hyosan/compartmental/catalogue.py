"""The model catalogue: Kermack & McKendrick (1927), Munz et al. (2009) and Alemi et al. (2015),
each declared once.

Sources
-------
- W. O. Kermack, A. G. McKendrick, "A contribution to the mathematical theory of epidemics",
  *Proc. R. Soc. Lond. A* 115 (1927), 700-721: the SIR model (and, with a latent class, SEIR, in
  the form of R. M. Anderson & R. M. May, *Infectious Diseases of Humans*, Oxford 1991, ch. 6).
  Time unit: days. Transmission is frequency dependent (beta S I / N), so beta is a rate per day.
- P. Munz, I. Hudea, J. Imad, R. J. Smith?, "When zombies attack!: Mathematical modelling of an
  outbreak of zombie infection", in *Infectious Disease Modelling Research Progress*, Nova
  Science, 2009, pp. 133-150. Time unit: days.
- A. A. Alemi, M. Bierbaum, C. R. Myers, J. P. Sethna, "You can run, you can hide: The
  epidemiology and statistical mechanics of zombies", *Phys. Rev. E* 92, 052801 (2015).

Where a paper leaves a default open (the quarantine and cure rates, Alemi's bite rate and
latency), the value here is ours and says so in its parameter's doc.
"""

from __future__ import annotations

from hyosan.compartmental.network import Param, Reaction, ReactionNetwork, Species, Strike
from hyosan.errors import HyosanError

KM_SOURCE = "Kermack & McKendrick (1927), Proc. R. Soc. Lond. A 115, 700-721"
SEIR_SOURCE = KM_SOURCE + "; with a latent class as in Anderson & May (1991), Infectious Diseases of Humans"
MUNZ_SOURCE = "Munz, Hudea, Imad & Smith? (2009), When zombies attack!"
ALEMI_SOURCE = "Alemi, Bierbaum, Myers & Sethna (2015), Phys. Rev. E 92, 052801"


def _munz_params(**defaults: float) -> tuple[Param, ...]:
    """Munz's shared parameters; keyword arguments change their defaults."""
    base = {
        "Pi": (0.0, "humans/day", "birth rate (Munz: 0 on the outbreak's short time scale)"),
        "beta": (0.0095, "1/(zombie*day)", "transmission: a human meeting a zombie is bitten"),
        "alpha": (0.005, "1/(human*day)", "zombie destruction: a human meeting a zombie kills it"),
        "zeta": (0.0001, "1/day", "resurrection of the removed (dead) as zombies"),
        "delta": (0.0001, "1/day", "natural (non-zombie) death rate"),
        "N": (500.0, "humans", "initial human population"),
        "Z0": (1.0, "zombies", "initial zombies"),
    }
    for key, value in defaults.items():
        unit, doc = base[key][1], base[key][2]
        base[key] = (value, unit, doc)
    return tuple(Param(k, v[0], v[1], v[2], integer=k in ("N", "Z0")) for k, v in base.items())


_BIRTH = Reaction("birth", {}, {"S": +1}, "Pi", "humans are born")
_HUMAN_DEATH = Reaction("death", {"S": 1}, {"S": -1, "R": +1}, "delta", "humans die of other causes")
_KILL = Reaction("kill", {"S": 1, "Z": 1}, {"Z": -1, "R": +1}, "alpha", "a human kills a zombie")
_RESURRECT = Reaction("resurrect", {"R": 1}, {"R": -1, "Z": +1}, "zeta", "the dead rise")
_SZR = (
    Species("S", "N", "susceptible humans"),
    Species("Z", "Z0", "zombies"),
    Species("R", "0", "removed: dead humans and destroyed zombies (may resurrect)"),
)
_SIZR = (
    Species("S", "N", "susceptible humans"),
    Species("I", "0", "infected (bitten, not yet zombies)"),
    Species("Z", "Z0", "zombies"),
    Species("R", "0", "removed: dead humans and destroyed zombies (may resurrect)"),
)
_LATENT_REACTIONS = (
    _BIRTH,
    Reaction("bite", {"S": 1, "Z": 1}, {"S": -1, "I": +1}, "beta", "a zombie bites a human"),
    Reaction("turn", {"I": 1}, {"I": -1, "Z": +1}, "rho", "the infected turn"),
    _HUMAN_DEATH,
    Reaction("infected death", {"I": 1}, {"I": -1, "R": +1}, "delta", "the infected die first"),
    _KILL,
    _RESURRECT,
)
_RHO = Param("rho", 0.005, "1/day", "latent infected turn into zombies")

MUNZ_BASIC = ReactionNetwork(
    name="munz-basic",
    title="Munz basic SZR",
    source=MUNZ_SOURCE,
    time_unit="days",
    species=_SZR,
    params=_munz_params(),
    reactions=(
        _BIRTH,
        Reaction("bite", {"S": 1, "Z": 1}, {"S": -1, "Z": +1}, "beta", "a zombie bites a human"),
        _HUMAN_DEATH,
        _KILL,
        _RESURRECT,
    ),
    t_end=10.0,
    doc="Humans (S), zombies (Z) and the removed (R). With the defaults, zombies win: the only "
    "stable outcome of the basic model is the doomsday equilibrium.",
)

MUNZ_LATENT = ReactionNetwork(
    name="munz-latent",
    title="Munz SIZR with a latent period",
    source=MUNZ_SOURCE,
    time_unit="days",
    species=_SIZR,
    params=(*_munz_params(), _RHO),
    reactions=_LATENT_REACTIONS,
    t_end=1500.0,
    doc="The bitten first become infected (I) and turn at rate rho; zombies still win, far later. "
    "With the defaults (rho = 0.005/day: 200 days as infected on average) humans fall below 1 % "
    "of N at t = 1015 days, 228x later than in the basic model (4.46 days); Munz et al. describe "
    "the delay as about twice as long, which these shared defaults do not give. The default "
    "t_end = 1500 days shows the collapse.",
)

MUNZ_QUARANTINE = ReactionNetwork(
    name="munz-quarantine",
    title="Munz SIZRQ with quarantine",
    source=MUNZ_SOURCE,
    time_unit="days",
    species=(*_SIZR, Species("Q", "0", "quarantined infected and zombies")),
    params=(
        *_munz_params(),
        _RHO,
        Param("kappa", 0.001, "1/day", "infected put in quarantine (our default)"),
        Param("sigma", 0.0001, "1/day", "zombies put in quarantine (our default)"),
        Param("gamma", 0.0001, "1/day", "quarantined removed, killed trying to escape (our default)"),
    ),
    reactions=(
        *_LATENT_REACTIONS,
        Reaction("quarantine infected", {"I": 1}, {"I": -1, "Q": +1}, "kappa"),
        Reaction("quarantine zombie", {"Z": 1}, {"Z": -1, "Q": +1}, "sigma"),
        Reaction("escape killed", {"Q": 1}, {"Q": -1, "R": +1}, "gamma"),
    ),
    t_end=10.0,
    r0="beta * N * rho / ((rho + kappa) * (alpha * N + sigma))",
    doc="Quarantine of infected (kappa) and zombies (sigma), with R0 = beta N rho / ((rho + kappa)"
    "(alpha N + sigma)) (Munz's, which leaves out the dead rising). R0 < 1 means eradication for "
    "good only with zeta = 0; with zeta > 0 it holds over a horizon: at kappa = sigma = 0.05 "
    "(R0 = 0.17) and delta = 0, fewer than 0.01 infected and zombies remain at t = 1000 days, but "
    "the dead keep rising and by t = 1e5 no human is left (S = 0, Z = 0.5), with or without "
    "natural deaths.",
)

MUNZ_TREATMENT = ReactionNetwork(
    name="munz-treatment",
    title="Munz SIZR with treatment",
    source=MUNZ_SOURCE,
    time_unit="days",
    species=_SIZR,
    params=(
        *_munz_params(),
        _RHO,
        Param("c", 0.05, "1/day", "cure: zombies become human again (our default)"),
    ),
    reactions=(
        *_LATENT_REACTIONS,
        Reaction("cure", {"Z": 1}, {"Z": -1, "S": +1}, "c", "a zombie is cured"),
    ),
    t_end=10.0,
    doc="A cure returns zombies to the susceptible class. With Pi = delta = 0 humans and "
    "zombies coexist, with S tending to c / beta.",
)

_IMPULSIVE_PARAMS = (
    *_munz_params(alpha=0.0075, beta=0.0055, zeta=0.09, delta=0.0001, N=1000.0),
    Param("k", 0.25, "1", "the n-th strike destroys a fraction k*n of the zombies"),
    Param("T", 2.5, "days", "time between strikes"),
)

MUNZ_IMPULSIVE = ReactionNetwork(
    name="munz-impulsive",
    title="Munz SZR with impulsive strikes",
    source=MUNZ_SOURCE,
    time_unit="days",
    species=_SZR,
    params=_IMPULSIVE_PARAMS,
    reactions=MUNZ_BASIC.reactions,
    strikes=(Strike("Z", "T", "k * n", None, "strike n destroys a fraction min(1, k n) of zombies"),),
    t_end=12.0,
    doc="The basic model with ever stronger strikes at t = T, 2T, ...; the strike with k n >= 1 "
    "(the fourth with the defaults, at t = 10) destroys every zombie, but not the dead: the "
    "removed (R) keep rising at rate zeta, so the zombies come back (ODE: Z(12) = 1.33; SSA: "
    "about a quarter of runs have zombies again at t = 12). Strikes fall strictly before t_end, "
    "so the final state, and the extinct fraction read from it, is never that of a strike "
    "instant. `munz-impulsive-reset` is the paper's eradication.",
)

MUNZ_IMPULSIVE_RESET = ReactionNetwork(
    name="munz-impulsive-reset",
    title="Munz SZR with impulsive eradication (the paper's reset)",
    source=MUNZ_SOURCE,
    time_unit="days",
    species=_SZR,
    params=_IMPULSIVE_PARAMS,
    reactions=MUNZ_BASIC.reactions,
    strikes=(
        Strike(
            "Z",
            "T",
            "k * n",
            None,
            "strike n destroys a fraction min(1, k n) of zombies and clears the dead",
            resets=(("R", "0"), ("S", "N - Z")),
        ),
    ),
    t_end=12.0,
    doc="Munz's impulsive eradication as the paper solves it: after each strike the removed are "
    "cleared (R = 0) and the population is N again (S = N - Z). With no dead left to rise, the "
    "fourth strike (k n >= 1) ends the outbreak: at t = 12 the ODE has Z < 0.01 and under 4 % of "
    "SSA runs have zombies (a quarter without the reset). Natural deaths (delta) still feed the "
    "dead, so zombies return slowly (in about 2 % of SSA runs by t = 30).",
)

_ALEMI_PARAMS = (
    Param("beta", 1.0, "1/day", "bite rate of one zombie in a population of humans (our default)"),
    Param("alpha", 0.8, "1", "kappa / beta: zombies killed per human bitten (Alemi's fit: 0.8)"),
    Param("N", 1000.0, "people", "total population, humans plus initial zombies", integer=True),
    Param("Z0", 1.0, "zombies", "initial zombies", integer=True),
)
_ALEMI_KILL = Reaction(
    "kill", {"S": 1, "Z": 1}, {"Z": -1, "R": +1}, "alpha * beta / N", "a human kills a zombie"
)

ALEMI = ReactionNetwork(
    name="alemi",
    title="Alemi SZR",
    source=ALEMI_SOURCE,
    time_unit="days",
    species=(
        Species("S", "N - Z0", "susceptible humans"),
        Species("Z", "Z0", "zombies"),
        Species("R", "0", "removed zombies"),
    ),
    params=_ALEMI_PARAMS,
    reactions=(
        Reaction("bite", {"S": 1, "Z": 1}, {"S": -1, "Z": +1}, "beta / N", "a zombie bites a human"),
        _ALEMI_KILL,
    ),
    t_end=100.0,
    r0="1 / alpha",
    doc="Every meeting ends in a bite (rate beta) or a kill (kappa = alpha beta). Mean field: "
    "for alpha < 1, S -> 0 and Z -> Z0 + (1 - alpha) S0; for alpha > 1, S -> S0 - Z0/(alpha - 1).",
)

ALEMI_LATENT = ReactionNetwork(
    name="alemi-latent",
    title="Alemi SEZR with a latent period",
    source=ALEMI_SOURCE,
    time_unit="days",
    species=(
        Species("S", "N - Z0", "susceptible humans"),
        Species("E", "0", "exposed: bitten, turning at rate eta"),
        Species("Z", "Z0", "zombies"),
        Species("R", "0", "removed zombies"),
    ),
    params=(*_ALEMI_PARAMS, Param("eta", 1.0, "1/day", "the bitten turn (our default: a day)")),
    reactions=(
        Reaction("bite", {"S": 1, "Z": 1}, {"S": -1, "E": +1}, "beta / N", "a zombie bites a human"),
        Reaction("turn", {"E": 1}, {"E": -1, "Z": +1}, "eta", "the bitten turn"),
        _ALEMI_KILL,
    ),
    t_end=100.0,
    r0="1 / alpha",
    doc="Alemi's SZR with a latent class E between the bite and turning.",
)

_KM_PARAMS = (
    Param("beta", 1.0, "1/day", "transmission: contacts that infect, per infected per day (beta S I / N)"),
    Param("gamma", 0.5, "1/day", "recovery: 1/gamma is the mean infectious period"),
    Param("N", 1000.0, "people", "total population", integer=True),
    Param("I0", 1.0, "people", "initially infectious", integer=True),
)

SIR = ReactionNetwork(
    name="sir",
    title="Kermack-McKendrick SIR",
    source=KM_SOURCE,
    time_unit="days",
    species=(
        Species("S", "max(N - I0, 0)", "susceptible"),
        Species("I", "I0", "infectious"),
        Species("R", "0", "removed (recovered)"),
    ),
    params=_KM_PARAMS,
    reactions=(
        Reaction("infection", {"S": 1, "I": 1}, {"S": -1, "I": +1}, "beta / N", "an infectious case infects"),
        Reaction("recovery", {"I": 1}, {"I": -1, "R": +1}, "gamma", "an infectious case recovers"),
    ),
    t_end=30.0,
    humans="S",
    zombies="I",
    r0="beta / gamma",
    doc="The classic epidemic: every case infects at rate beta S/N and recovers at rate gamma. "
    "R0 = beta / gamma; the fraction finally infected, r, solves r = 1 - exp(-R0 r) as I0/N -> 0 "
    "(no epidemic for R0 <= 1). `examples/boarding_school.toml` fits it to the 1978 boarding-school "
    "influenza (docs/calibration.md).",
)

SEIR = ReactionNetwork(
    name="seir",
    title="SEIR (SIR with a latent period)",
    source=SEIR_SOURCE,
    time_unit="days",
    species=(
        Species("S", "max(N - I0, 0)", "susceptible"),
        Species("E", "0", "exposed: infected, not yet infectious"),
        Species("I", "I0", "infectious"),
        Species("R", "0", "removed (recovered)"),
    ),
    params=(
        *_KM_PARAMS[:2],
        Param("sigma", 0.5, "1/day", "the exposed become infectious: 1/sigma is the mean latent period"),
        *_KM_PARAMS[2:],
    ),
    reactions=(
        Reaction("infection", {"S": 1, "I": 1}, {"S": -1, "E": +1}, "beta / N", "an infectious case infects"),
        Reaction("onset", {"E": 1}, {"E": -1, "I": +1}, "sigma", "the exposed become infectious"),
        Reaction("recovery", {"I": 1}, {"I": -1, "R": +1}, "gamma", "an infectious case recovers"),
    ),
    t_end=60.0,
    humans="S",
    zombies="I",
    r0="beta / gamma",
    doc="SIR with a latent class E. The latent period delays the epidemic but changes neither R0 = "
    "beta / gamma nor the final size (r = 1 - exp(-R0 r)); early on cases grow as exp(lambda t) with "
    "lambda the largest root of (lambda + sigma)(lambda + gamma) = sigma beta.",
)

CATALOGUE: dict[str, ReactionNetwork] = {
    m.name: m
    for m in (
        SIR,
        SEIR,
        MUNZ_BASIC,
        MUNZ_LATENT,
        MUNZ_QUARANTINE,
        MUNZ_TREATMENT,
        MUNZ_IMPULSIVE,
        MUNZ_IMPULSIVE_RESET,
        ALEMI,
        ALEMI_LATENT,
    )
}


def names() -> list[str]:
    """The catalogue's model names."""
    return list(CATALOGUE)


def get(name: str) -> ReactionNetwork:
    """The model called ``name``; a :class:`HyosanError` lists the known names otherwise."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise HyosanError(f"unknown model {name!r} (known: {', '.join(CATALOGUE)})", source="model") from None


def markdown() -> str:
    """The catalogue as Markdown (equations, parameters, source): docs/models.md embeds it."""
    parts = []
    for m in CATALOGUE.values():
        lines = [
            f"### `{m.name}`: {m.title}",
            "",
            m.doc,
            "",
            f"Source: {m.source}. Time unit: {m.time_unit}.",
            "",
        ]
        lines += ["```", *m.equations()]
        for s in m.strikes:
            when = f"at t = n*{s.period} < t_end (n = 1, 2, ...)"
            lines.append(f"{when}: {s.species} -= min(1, {s.fraction}) * {s.species}")
            for target, expr in s.resets:
                lines.append(f"  then {target} = {expr}")
        lines += ["```", ""]
        if m.r0:
            lines += [f"R0 = `{m.r0}`", ""]
        lines += ["| compartment | initial value | meaning |", "|---|---|---|"]
        lines += [f"| {s.name} | `{s.initial}` | {s.doc} |" for s in m.species]
        lines += ["", "| parameter | default | unit | meaning |", "|---|---|---|---|"]
        lines += [f"| `{p.name}` | {p.default:g} | {p.unit} | {p.doc} |" for p in m.params]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
