# metafor side of benchmarks/bench_sensitivity.py, run once per round so that the two sides'
# repeats alternate. Usage (run by bench_sensitivity.py):
#   Rscript benchmarks/bench_sensitivity.R IN.json OUT.json time       one timed repeat of each analysis,
#                                                                       metafor at its default control
#   Rscript benchmarks/bench_sensitivity.R IN.json OUT.json reference  the same analyses at tight control,
#                                                                       untimed: the exact roots for the
#                                                                       agreement check
# IN.json: the simulated data and which analyses to run; OUT.json: per analysis the elapsed and CPU
# (user + system) seconds, or the results; plus R's BLAS and LAPACK libraries.
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(), value = TRUE))), "benchlib.R"))
args <- commandArgs(trailingOnly = TRUE)
d <- fromJSON(args[1])
mode <- args[3]
control <- if (mode == "reference") list(tol = 1e-12, threshold = 1e-12, maxiter = 10000, stepadj = 0.5) else list()
fit <- function(x) rma(x$yi, x$vi, method = "REML", control = control)
out <- r_info(mode)
m200 <- fit(d$large)
res <- list()
if ("leave1out" %in% d$analyses) {
  r <- timed(leave1out(m200))
  res$leave1out <- list(elapsed = r$elapsed, cpu = r$cpu, estimate = r$value$estimate, tau2 = r$value$tau2)
}
if ("influence" %in% d$analyses) {
  r <- timed(influence(m200))
  res$influence <- list(elapsed = r$elapsed, cpu = r$cpu, rstudent = r$value$inf$rstudent,
                        cook_d = r$value$inf$cook.d, dffits = r$value$inf$dffits, tau2_del = r$value$inf$tau2.del)
}
for (k in c(50, 200)) {
  name <- paste0("cumul", k)
  if (name %in% d$analyses) {
    x <- list(yi = d$large$yi[seq_len(k)], vi = d$large$vi[seq_len(k)])
    m <- fit(x)
    r <- timed(cumul(m, order = x$vi))
    res[[name]] <- list(elapsed = r$elapsed, cpu = r$cpu, estimate = as.numeric(r$value$estimate),
                        tau2 = as.numeric(r$value$tau2))
  }
}
if ("gosh" %in% d$analyses) {
  m16 <- fit(d$gosh)
  r <- timed(gosh(m16))
  res$gosh <- list(elapsed = r$elapsed, cpu = r$cpu)
}
out$results <- res
write_json_out(out, args[2])
