# metafor side of benchmarks/bench_regression.py, run once per round so that the two sides'
# repeats alternate. Usage (run by bench_regression.py):
#   Rscript benchmarks/bench_regression.R IN.json OUT.json time       one timed repeat of each analysis,
#                                                                      metafor at its default control
#   Rscript benchmarks/bench_regression.R IN.json OUT.json reference  the same analyses at tight control,
#                                                                      untimed: the exact roots for the
#                                                                      agreement check, and the permutations
# IN.json: yi, vi and year of the Metapsy comparisons, the permutation test's k, iterations and seed,
# and which analyses to run (pool: REML intercept only; regression: REML on year; permutation:
# permutest at k = k_perm). OUT.json: per analysis the elapsed and CPU (user + system) seconds and
# the results; in reference mode also the permutations permutest drew; plus R's BLAS and LAPACK.
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(), value = TRUE))), "benchlib.R"))
args <- commandArgs(trailingOnly = TRUE)
d <- fromJSON(args[1])
mode <- args[3]
control <- if (mode == "reference") list(tol = 1e-12, threshold = 1e-12, maxiter = 10000) else list()
yi <- d$yi; vi <- d$vi; year <- d$year
out <- r_info(mode)
res <- list()
if ("pool" %in% d$analyses) {
  r <- timed(rma(yi, vi, method = "REML", control = control)); m <- r$value
  res$pool <- list(elapsed = r$elapsed, cpu = r$cpu, k = m$k, coef = unname(c(coef(m))), se = m$se,
                   tau2 = m$tau2, q = m$QE)
}
if ("regression" %in% d$analyses) {
  r <- timed(rma(yi, vi, mods = ~ year, method = "REML", control = control)); m <- r$value
  res$regression <- list(elapsed = r$elapsed, cpu = r$cpu, coef = unname(c(coef(m))), se = unname(m$se),
                         tau2 = m$tau2, qm = m$QM, qe = m$QE, r2 = m$R2)
}
if ("permutation" %in% d$analyses) {
  kp <- d$k_perm; s <- seq_len(kp)
  # the fit is not timed; permutest refits it at the fit's own control once per permutation
  mp <- rma(yi[s], vi[s], mods = ~ year[s], method = "REML", control = control)
  r <- timed(permutest(mp, iter = d$iter, seed = d$seed, progbar = FALSE)); p <- r$value
  res$permutation <- list(elapsed = r$elapsed, cpu = r$cpu, qm = mp$QM, pval = unname(p$pval), qm_pval = p$QMp,
                          qm_perm = p$QM.perm, zval_perm = as.matrix(p$zval.perm))
  if (mode == "reference") {
    # The permutations permutest drew: after set.seed(seed), one sample(k) per iteration, applied to
    # the rows of the design matrix sorted by its columns (0-based row orders).
    set.seed(d$seed)
    P <- t(replicate(d$iter, sample(kp)))
    ord <- do.call(order, as.data.frame(mp$X))
    res$permutation$orders <- matrix(ord[P], nrow = d$iter) - 1
  }
}
out$results <- res
write_json_out(out, args[2])
