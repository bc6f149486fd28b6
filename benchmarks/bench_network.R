# metafor side of benchmarks/bench_network.py, run once per round so that the two sides' repeats
# alternate. Usage (run by bench_network.py):
#   Rscript benchmarks/bench_network.R IN.json OUT.json time       one timed fit of each network,
#                                                                   metafor at its default control
#   Rscript benchmarks/bench_network.R IN.json OUT.json reference  the same fits at tight control, untimed:
#                                                                   the exact REML root for the agreement check
# The model is the one tests/reference/generate_network.R gives the engine's network parity tests:
# contrasts against each study's baseline arm, the multi-arm covariance within a study, and
#   rma.mv(yi, V, mods = X, intercept = FALSE, random = ~ comp | study, rho = 1/2, struct = "CS", method = "REML")
# Reference mode as there: BFGS with reltol 1e-14, then tau² polished by Brent's method on metafor's
# own restricted log-likelihood and the model refitted with tau² fixed there.
# IN.json: per network its treatments, reference and studies (arms, contrasts y = baseline - arm,
# their covariance), as the engine stacks them. OUT.json: per network the elapsed and CPU (user +
# system) seconds of rma.mv, tau², the coefficients (treatment - reference) and their SEs; plus
# R's BLAS and LAPACK.
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(), value = TRUE))), "benchlib.R"))
args <- commandArgs(trailingOnly = TRUE)
d <- fromJSON(args[1], simplifyVector = FALSE)
mode <- args[3]

prepare <- function(net) {
  rows <- vector("list", length(net$studies)); blocks <- rows
  for (i in seq_along(net$studies)) {
    s <- net$studies[[i]]
    arms <- unlist(s$arms); y <- unlist(s$y); q <- length(y)
    rows[[i]] <- data.frame(study = s$study, t1 = arms[1], t2 = arms[-1], yi = y, stringsAsFactors = FALSE)
    blocks[[i]] <- matrix(unlist(s$cov), q, q, byrow = TRUE)
  }
  dat <- do.call(rbind, rows)
  dat$comp <- paste(dat$t1, dat$t2, sep = " vs ")
  trts <- unlist(net$treatments)
  X <- sapply(trts, function(t) (dat$t1 == t) - (dat$t2 == t))
  list(dat = dat, V = bldiag(blocks), X = X[, trts != net$reference, drop = FALSE])
}

out <- r_info(mode)
res <- list()
for (name in names(d$networks)) {
  p <- prepare(d$networks[[name]])
  mv <- function(...) rma.mv(p$dat$yi, p$V, mods = p$X, intercept = FALSE, random = ~ comp | study, rho = 1/2,
                             struct = "CS", data = p$dat, method = "REML", ...)
  if (mode == "reference") {
    re0 <- mv(control = list(optimizer = "BFGS", reltol = 1e-14))
    opt <- optimize(function(t) as.numeric(logLik(mv(tau2 = t))), c(0, 2 * re0$tau2 + 1e-4), maximum = TRUE,
                    tol = 1e-14)
    m <- mv(tau2 = opt$maximum)
    r <- list(elapsed = NA, cpu = NA)
  } else {
    r <- timed(mv()); m <- r$value
  }
  res[[name]] <- list(elapsed = r$elapsed, cpu = r$cpu, tau2 = m$tau2, coef = unname(as.numeric(coef(m))),
                      se = unname(as.numeric(m$se)), n_contrasts = m$k)
}
out$results <- res
write_json_out(out, args[2])
