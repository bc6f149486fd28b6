# metafor reference for the outside review tests/reviews/metapsy_subset.py: psychotherapy vs
# control on symptoms in the trials of 2018 and 2019 of the Metapsy depression-psyctr database,
# computed here from the database on its own, by the review's stated rules:
# - rows of those years with arm-level means and SDs (outcome_type msd), or a reported g
#   (other statistic with precalc_g) that gives its week (Johnson 2019's do not);
# - per trial one instrument: the one most of its arms report, then the first of the default
#   priority list of analysis.scales (an entry also names its versions: HRSD-17, BDI-II), then
#   the first row; a scale not listed ranks after the listed ones;
# - the arms of one side (several psychotherapies, or two controls) combined by the Cochrane
#   Handbook's formula (6.5.2.10), Hedges' g of psychotherapy minus control (escalc "SMD");
# - a reported g with its sign turned (negative: fewer symptoms with psychotherapy);
# - rma, REML, z test, as the review's protocol;
# - and again under analysis.scales.rule average: every instrument reported by the same arms as
#   the chosen one, one SMD each, averaged per trial by aggregate(struct = "CS", rho = 0.5).
# Usage (from the project root):
#   Rscript tests/reference/generate_metapsy_subset.R ../shared/datasets/metapsy/depression-psyctr.csv \
#     tests/reference/metapsy_subset.json
suppressMessages({ library(metafor); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], sep = ";", dec = ",", na.strings = "NA", encoding = "UTF-8", check.names = FALSE)
d <- d[d$year %in% c(2018, 2019), ]
priority <- c("HRSD", "HAMD", "HAM-D", "HDRS", "MADRS", "QIDS-C", "IDS-C", "CDRS-R", "CSDD", "BDI", "PHQ-9",
              "QIDS-SR", "IDS-SR", "MADRS-S", "MADRS-SR", "CES-D", "HADS-D", "GDS", "EPDS")
rank_of <- function(scale) {
  hit <- which(vapply(priority, function(p) grepl(paste0("^", p, "([- ]?([0-9]+|[IVX]+))?$"), scale,
                                                  ignore.case = TRUE), logical(1)))
  if (length(hit)) hit[1] else length(priority) + 1
}
combine <- function(n, m, s) {  # Cochrane Handbook 6.5.2.10, one group at a time
  nt <- n[1]; mt <- m[1]; st <- s[1]
  for (i in seq_along(n)[-1]) {
    v <- ((nt - 1) * st^2 + (n[i] - 1) * s[i]^2 + nt * n[i] / (nt + n[i]) * (mt - m[i])^2) / (nt + n[i] - 1)
    mt <- (nt * mt + n[i] * m[i]) / (nt + n[i]); nt <- nt + n[i]; st <- sqrt(v)
  }
  c(n = nt, m = mt, s = st)
}
slug <- function(x) gsub("[^a-z0-9]+", "", tolower(x))
msd <- d[d$outcome_type == "msd", ]
msd$arm1 <- ifelse(is.na(msd$multi_arm1), msd$condition_arm1, msd$multi_arm1)
msd$arm2 <- ifelse(is.na(msd$multi_arm2), msd$condition_arm2, msd$multi_arm2)
smd_on <- function(x, instrument) {
  y <- x[x$instrument == instrument, ]
  p <- y[!duplicated(y$arm1), ]; ctl <- y[!duplicated(y$arm2), ]
  a <- combine(p$n_arm1, p$mean_arm1, p$sd_arm1); b <- combine(ctl$n_arm2, ctl$mean_arm2, ctl$sd_arm2)
  escalc("SMD", m1i = a["m"], sd1i = a["s"], n1i = a["n"], m2i = b["m"], sd2i = b["s"], n2i = b["n"])
}
rows <- list(); averaged <- list()
for (st in unique(msd$study)) {
  x <- msd[msd$study == st, ]
  inst <- unique(x$instrument)
  arms_of <- lapply(inst, function(i) sort(unique(c(x$arm1[x$instrument == i], x$arm2[x$instrument == i]))))
  cover <- lengths(arms_of)
  first <- match(inst, x$instrument)
  ranks <- sapply(inst, rank_of)
  best <- order(-cover, ranks, first)[1]
  es <- smd_on(x, inst[best])
  rows[[length(rows) + 1]] <- data.frame(study = st, study_id = slug(st), scale = toupper(inst[best]),
                                         yi = as.numeric(es$yi), vi = as.numeric(es$vi))
  same <- inst[vapply(arms_of, identical, logical(1), arms_of[[best]])]
  each <- do.call(rbind, lapply(same, function(i) data.frame(study = st, smd_on(x, i))))
  agg <- aggregate(escalc(yi = yi, vi = vi, data = each), cluster = study, struct = "CS", rho = 0.5)
  averaged[[length(averaged) + 1]] <- data.frame(study = st, study_id = slug(st), scales = length(same),
                                                 yi = as.numeric(agg$yi), vi = as.numeric(agg$vi))
}
rep <- d[d$outcome_type == "other statistic" & !is.na(d$precalc_g) & !is.na(d$time_weeks) &
         !(d$study %in% msd$study), ]
rep <- rep[!duplicated(rep$study), ]
if (nrow(rep)) rows[[length(rows) + 1]] <- data.frame(study = rep$study, study_id = slug(rep$study),
                                                      scale = toupper(rep$instrument), yi = -rep$precalc_g,
                                                      vi = rep$precalc_g_se^2)
tight <- list(tol = 1e-12, threshold = 1e-12, maxiter = 10000, stepadj = 0.5)
fit <- function(es, test = "z") {
  m <- rma(yi, vi, data = es, method = "REML", test = test, control = tight)
  list(k = m$k, estimate = unname(coef(m)), se = m$se, ci_lb = m$ci.lb, ci_ub = m$ci.ub, tau2 = m$tau2,
       i2 = m$I2, q = m$QE, pi_lb = predict(m)$pi.lb, pi_ub = predict(m)$pi.ub, studies = as.list(es))
}
reported <- rows[-seq_along(averaged)]
# the default z test, and the Knapp-Hartung test the review's protocol takes by default
out <- c(list(metafor = as.character(packageVersion("metafor"))), fit(do.call(rbind, rows)),
         list(knha = fit(do.call(rbind, rows), test = "knha")),
         list(average = fit(do.call(rbind, c(averaged, lapply(reported, function(r) cbind(r[, c("study", "study_id")], scales = 1, r[, c("yi", "vi")])))))))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), args[2])
