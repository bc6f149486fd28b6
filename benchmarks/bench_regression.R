# metafor side of benchmarks/bench_regression.py (run by it; not on its own):
#   Rscript benchmarks/bench_regression.R DATA.csv OUT.json REPS_FIT REPS_PERM K_PERM ITER SEED
# Times rma(REML) on every Metapsy comparison (intercept only, and with year as moderator) and
# permutest() with ITER random permutations at k = K_PERM, and writes the fits, the timings and
# the permutations drawn (as 0-based row orders of the design matrix) for the agreement check.
suppressMessages({ library(metafor); library(jsonlite) })
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1], sep = ";", dec = ",")
d <- d[!is.na(d$.g) & !is.na(d$.g_se), ]
reps_fit <- as.integer(a[3]); reps_perm <- as.integer(a[4]); kp <- as.integer(a[5])
iter <- as.integer(a[6]); seed <- as.integer(a[7])
# Tight convergence (both sides iterate to about 1e-12), metafor's default step length.
ctrl <- list(tol = 1e-12, threshold = 1e-12, maxiter = 10000)
yi <- d$.g; vi <- d$.g_se^2; year <- d$year

elapsed <- function(expr) { t0 <- proc.time()[["elapsed"]]; force(expr); proc.time()[["elapsed"]] - t0 }
t_int <- t_mod <- numeric(reps_fit)
for (r in seq_len(reps_fit)) {
  t_int[r] <- elapsed(m0 <- rma(yi, vi, method = "REML", control = ctrl))
  t_mod[r] <- elapsed(m1 <- rma(yi, vi, mods = ~ year, method = "REML", control = ctrl))
}

s <- seq_len(kp)
mp <- rma(yi[s], vi[s], mods = ~ year[s], method = "REML", control = ctrl)
t_perm <- numeric(reps_perm)
for (r in seq_len(reps_perm)) t_perm[r] <- elapsed(p <- permutest(mp, iter = iter, seed = seed, progbar = FALSE))
# The permutations permutest drew: after set.seed(seed), one sample(k) per iteration, applied to
# the rows of the design matrix sorted by its columns.
set.seed(seed)
P <- t(replicate(iter, sample(kp)))
ord <- do.call(order, as.data.frame(mp$X))
orders <- matrix(ord[P], nrow = iter) - 1

writeLines(toJSON(list(
  metafor_version = as.character(packageVersion("metafor")), r_version = R.version.string, k = m0$k,
  time_fit_intercept = t_int, time_fit_year = t_mod, time_permutest = t_perm,
  fit_intercept = list(coef = unname(c(coef(m0))), se = m0$se, tau2 = m0$tau2, q = m0$QE),
  fit_year = list(coef = unname(c(coef(m1))), se = unname(m1$se), tau2 = m1$tau2, qm = m1$QM, qe = m1$QE, r2 = m1$R2),
  permutest = list(k = kp, iter = iter, seed = seed, qm = mp$QM, pval = unname(p$pval), qm_pval = p$QMp,
                   qm_perm = p$QM.perm, zval_perm = as.matrix(p$zval.perm), orders = orders)
), auto_unbox = TRUE, digits = NA, na = "null"), a[2])
