/* What truncating a PID file to zero costs on ext4 (auto_da_alloc: the next close of a
   file truncated to zero and rewritten allocates and writes back its block), and what
   the last close of an unlinked PID file costs (the inode and its block are freed).
   gcc -O2 -o pidfile-ext4 pidfile-ext4.c && ./pidfile-ext4 /tmp/dir && ./pidfile-ext4 /dev/shm */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e6+t.tv_nsec/1e3;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
#define RUNS 11
static char P[4096];
typedef void (*op)(void);
static void bench(const char*name, op f, int n){ double r[RUNS];
  for(int k=0;k<RUNS;k++){double t=now();for(int i=0;i<n;i++)f();r[k]=(now()-t)/n;}
  qsort(r,RUNS,sizeof r[0],cmp); printf("%-66s %8.2f µs (p10 %.2f, p90 %.2f)\n",name,r[RUNS/2],r[1],r[RUNS-2]); }
static void a(void){int f=open(P,O_RDWR|O_CREAT|O_CLOEXEC,0644); pwrite(f,"12800\n",6,0); unlink(P); close(f);}
static void c(void){int f=open(P,O_RDWR|O_CREAT|O_CLOEXEC,0644); ftruncate(f,0); pwrite(f,"12800\n",6,0); unlink(P); close(f);}
static void w(void){int f=open(P,O_RDWR|O_CREAT|O_CLOEXEC,0644); pwrite(f,"12800\n",6,0); ftruncate(f,6); unlink(P); close(f);}
static double evict(int with_block){ double s=0; int n=500;
  for(int i=0;i<n;i++){ int f=open(P,O_RDWR|O_CREAT|O_CLOEXEC,0644); if(with_block){pwrite(f,"12800\n",6,0); fsync(f);}
    unlink(P); double t=now(); close(f); s+=now()-t; }
  return s/n; }
int main(int argc,char**argv){
  if(argc<2){fprintf(stderr,"usage: %s DIR\n",argv[0]);return 64;}
  snprintf(P,sizeof P,"%s/pidfile-ext4.pid",argv[1]);
  bench("create, pwrite, unlink, close", a, 2000);
  bench("create, ftruncate(0), pwrite, unlink, close (the runtime's order)", c, 2000);
  bench("create, pwrite, ftruncate(6), unlink, close", w, 2000);
  printf("%-66s %8.2f µs\n","last close of an unlinked PID file with a block", evict(1));
  printf("%-66s %8.2f µs\n","last close of an unlinked empty PID file", evict(0));
  return 0; }
