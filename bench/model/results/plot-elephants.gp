# made by bench/model/predict --jobs 2 at cecd1a3-dirty
set terminal pngcairo size 900,500 noenhanced
set output "capacity-elephants.png"
set title "capacity vs workers, elephants (model, commit cecd1a3-dirty)"
set logscale x 2
set xlabel "workers (one core each)"
set ylabel "capacity req/s (closed loop, 8 conns a worker)"
set key left top
set grid
plot "plot-elephants.dat" index 0 using 1:2 with linespoints title "share-nothing", "plot-elephants.dat" index 1 using 1:2 with linespoints title "shared-locks", "plot-elephants.dat" index 2 using 1:2 with linespoints title "work-stealing"
unset logscale x
set terminal pngcairo size 1500,900 noenhanced
set output "p99-elephants.png"
set multiplot layout 2,3 title "p99 vs offered load, elephants (model, commit cecd1a3-dirty); line at 1 ms"
set logscale y
set xlabel "offered req/s"
set ylabel "p99 us"
set key left top font ",8"
set format x "%.0s%c"
set title "4 workers"
plot "plot-elephants.dat" index 3 using 1:2 with linespoints title "share-nothing", "plot-elephants.dat" index 4 using 1:2 with linespoints title "shared-locks", "plot-elephants.dat" index 5 using 1:2 with linespoints title "work-stealing", 1000 with lines dt 2 notitle
set title "8 workers"
plot "plot-elephants.dat" index 6 using 1:2 with linespoints title "share-nothing", "plot-elephants.dat" index 7 using 1:2 with linespoints title "shared-locks", "plot-elephants.dat" index 8 using 1:2 with linespoints title "work-stealing", 1000 with lines dt 2 notitle
set title "16 workers"
plot "plot-elephants.dat" index 9 using 1:2 with linespoints title "share-nothing", "plot-elephants.dat" index 10 using 1:2 with linespoints title "shared-locks", "plot-elephants.dat" index 11 using 1:2 with linespoints title "work-stealing", 1000 with lines dt 2 notitle
set title "32 workers"
plot "plot-elephants.dat" index 12 using 1:2 with linespoints title "share-nothing", "plot-elephants.dat" index 13 using 1:2 with linespoints title "shared-locks", "plot-elephants.dat" index 14 using 1:2 with linespoints title "work-stealing", 1000 with lines dt 2 notitle
set title "64 workers"
plot "plot-elephants.dat" index 15 using 1:2 with linespoints title "share-nothing", "plot-elephants.dat" index 16 using 1:2 with linespoints title "shared-locks", "plot-elephants.dat" index 17 using 1:2 with linespoints title "work-stealing", 1000 with lines dt 2 notitle
unset multiplot
