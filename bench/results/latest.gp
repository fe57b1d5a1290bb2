set terminal pngcairo size 1500,450 font ',10'
set output 'bench/results/latest.png'
set multiplot layout 1,3 title 'Causeway at-least-once and exactly-once vs raw librdkafka pipe (median, bars: min-max)'
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.6 border -1
set key top right
set grid ytics
set yrange [0:*]
set title 'throughput'
set ylabel 'thousand records/s'
plot 'bench/results/latest.dat' using 2:3:4:xtic(1) title 'raw pipe', '' using 5:6:7 title 'Causeway at-least-once', '' using 20:21:22 title 'Causeway exactly-once'
set title 'p99 latency at half load, fetch.wait.max.ms=100 (default)'
set ylabel 'ms'
plot 'bench/results/latest.dat' using 8:9:10:xtic(1) title 'raw pipe', '' using 11:12:13 title 'Causeway at-least-once'
set title 'p99 latency at half load, fetch.wait.max.ms=10'
plot 'bench/results/latest.dat' using 14:15:16:xtic(1) title 'raw pipe', '' using 17:18:19 title 'Causeway at-least-once'
unset multiplot
