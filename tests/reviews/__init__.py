"""Outside reviews laid out as a researcher lays out their own (a protocol and its sheets), built
from the datasets in ../shared/datasets: the workflow runs them end to end."""
