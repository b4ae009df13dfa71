# gnuplot elephants.gp, from /tmp/m1/plots
set encoding utf8
set terminal pngcairo size 960,600
set output '../p99-elephants.png'
set title "elephants: p99 latency vs offered load\n{/*0.8 servers on CPU(s) 0 (percore: 1 worker thread(s)), percore-bench on CPU(s) 1 (1 thread(s), 50 connections, 100000 keys)}"
set xlabel 'offered load (requests/s)'
set ylabel 'p99 latency (µs)'
set logscale y
set format x '%.0s%c'
set grid xtics ytics mytics
set key top left box opaque
plot 'elephants.dat' index 0 using 1:4 with linespoints lw 2 pt 5 title 'share-nothing', \
     'elephants.dat' index 1 using 1:4 with linespoints lw 2 pt 6 title 'shared-locks', \
     'elephants.dat' index 2 using 1:4 with linespoints lw 2 pt 7 title 'work-stealing', \
     1000 with lines dt 2 lc rgb 'gray40' title 'p99 target (1000 µs)'
