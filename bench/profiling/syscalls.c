/* Native cost of the syscalls the daemon-runtime start path makes and the floor does not.
   gcc -O2 -o syscalls syscalls.c && ./syscalls /tmp/some-dir */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <malloc.h>
#include <linux/close_range.h>

static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e6+t.tv_nsec/1e3;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
#define RUNS 15
typedef void (*op)(void);
static void bench(const char*name, op f, int n){
  double r[RUNS];
  for(int k=0;k<RUNS;k++){double t=now();for(int i=0;i<n;i++)f();r[k]=(now()-t)/n;}
  qsort(r,RUNS,sizeof r[0],cmp);
  printf("%-58s %8.2f µs (p10 %.2f, p90 %.2f)\n",name,r[RUNS/2],r[1],r[RUNS-2]);
}
static void reset_signals(void){
  struct sigaction sa,old; memset(&sa,0,sizeof sa); sa.sa_handler=SIG_DFL; sa.sa_flags=SA_RESTART;
  sigaction(SIGPIPE,NULL,&old);
  for(int s=1;s<=64;s++){ if(s==SIGKILL||s==SIGSTOP||s==SIGPIPE||s==32||s==33) continue; sigemptyset(&sa.sa_mask); sigaddset(&sa.sa_mask,s); sigaction(s,&sa,&old);} 
  sigset_t e; sigemptyset(&e); sigprocmask(SIG_SETMASK,&e,NULL);
}
static void proc_task(void){
  int fd=open("/proc/self/task",O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY); struct stat st; fstat(fd,&st);
  char buf[32768]; syscall(SYS_getdents64,fd,buf,sizeof buf); syscall(SYS_getdents64,fd,buf,sizeof buf); close(fd);
}
static const char*dir;
static char fbuf[4096], tbuf[4096];
static const char*fpath(void){ snprintf(fbuf,sizeof fbuf,"%s/f.pid",dir); return fbuf; }
static const char*tpath(void){ snprintf(tbuf,sizeof tbuf,"%s/t.pid",dir); return tbuf; }
static void pid_ours(void){
  int d=open(dir,O_RDONLY|O_CLOEXEC|O_DIRECTORY);
  int f=openat(d,"m.pid",O_RDWR|O_CREAT|O_NOCTTY|O_NOFOLLOW|O_CLOEXEC,0644);
  flock(f,LOCK_EX|LOCK_NB); struct stat st; fstatat(d,"m.pid",&st,AT_SYMLINK_NOFOLLOW); fstat(f,&st);
  ftruncate(f,0); ftruncate(f,0); pwrite(f,"12800\n",6,0);
  unlinkat(d,"m.pid",0); close(f); close(d);
}
static void pid_floor(void){
  int f=openat(AT_FDCWD,fpath(),O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC,0666); write(f,"12800\n",6); close(f); unlink(fpath());
}
static void pid_extra_only(void){ /* the steps the floor does not do, on an existing file */
  int d=open(dir,O_RDONLY|O_CLOEXEC|O_DIRECTORY);
  int f=openat(d,"keep.pid",O_RDWR|O_CREAT|O_NOCTTY|O_NOFOLLOW|O_CLOEXEC,0644);
  flock(f,LOCK_EX|LOCK_NB); struct stat st; fstatat(d,"keep.pid",&st,AT_SYMLINK_NOFOLLOW); fstat(f,&st);
  ftruncate(f,0); flock(f,LOCK_UN); close(f); close(d);
}
static void ftrunc_nonempty(void){ int f=open(tpath(),O_RDWR|O_CREAT|O_CLOEXEC,0644); pwrite(f,"12800\n",6,0); ftruncate(f,0); close(f);}
static void ftrunc_baseline(void){ int f=open(tpath(),O_RDWR|O_CREAT|O_CLOEXEC,0644); pwrite(f,"12800\n",6,0); close(f);}
static void devnull(void){ int n=open("/dev/null",O_RDWR|O_NOCTTY|O_CLOEXEC); int a=dup(0),b=dup(1),c=dup(2); dup2(n,a);dup2(n,b);dup2(n,c); close(a);close(b);close(c);close(n);}
static void handler(int s){(void)s;}
static void sig_pipes(void){
  int p[2],q[2]; pipe2(p,O_NONBLOCK|O_CLOEXEC); pipe2(q,O_NONBLOCK|O_CLOEXEC);
  struct sigaction sa,old; memset(&sa,0,sizeof sa); sa.sa_handler=handler; sa.sa_flags=SA_RESTART;
  sigaction(SIGTERM,&sa,&old); sigaction(SIGINT,&sa,&old); sigaction(SIGHUP,&sa,&old);
  close(p[0]);close(p[1]);close(q[0]);close(q[1]);
}
static void sig3(void){ struct sigaction sa,old; memset(&sa,0,sizeof sa); sa.sa_handler=handler; sa.sa_flags=SA_RESTART;
  sigaction(SIGTERM,&sa,&old); sigaction(SIGINT,&sa,&old); sigaction(SIGHUP,&sa,&old);}
static void closerange(void){ int a=dup(0); syscall(SYS_close_range,a,a,0); syscall(SYS_close_range,100,100,0); syscall(SYS_close_range,200,~0U,0);}
static void chdir_umask(void){ chdir("/"); umask(027); }
static void trim(void){ void*p[120]; for(int i=0;i<120;i++) p[i]=malloc(200+i*4); for(int i=0;i<120;i++) free(p[i]); malloc_trim(0); }
static void notrim(void){ void*p[120]; for(int i=0;i<120;i++) p[i]=malloc(200+i*4); for(int i=0;i<120;i++) free(p[i]); }
static void msg_write(void){ static int p[2]={-1,-1}; char b[8]; if(p[0]<0) pipe2(p,O_CLOEXEC); write(p[1],"P\0\062\0\0",5); read(p[0],b,8);}
static void getpid_(void){ syscall(SYS_getpid); }
int main(int argc,char**argv){
  /* argv[1]: a scratch directory on the file system the PID files live on */
  if(argc<2){fprintf(stderr,"usage: %s DIR\n",argv[0]);return 64;} dir=argv[1];
  bench("getpid (one cheap syscall, reference)", getpid_, 20000);
  bench("daemon: reset 62 signal dispositions + mask (sys/signal.rs)", reset_signals, 2000);
  bench("launcher: /proc/self/task read (ensure_single_threaded)", proc_task, 5000);
  bench("pid file, our sequence (create, lock, 2 stat, 2 ftruncate, pwrite, unlink)", pid_ours, 2000);
  bench("pid file, floor's sequence (create O_TRUNC, write, unlink)", pid_floor, 2000);
  bench("pid file, our extra steps alone on an existing file", pid_extra_only, 5000);
  bench("ftruncate of a 6-byte file (+open/pwrite/close)", ftrunc_nonempty, 5000);
  bench("  same without the ftruncate", ftrunc_baseline, 5000);
  bench("/dev/null open + 3 dup2", devnull, 5000);
  bench("daemon: 2 signal pipes + 3 sigaction (signals::install)", sig_pipes, 5000);
  bench("daemon: 3 sigaction (the second install)", sig3, 20000);
  bench("daemon: 3 close_range", closerange, 20000);
  bench("daemon: chdir / + umask", chdir_umask, 20000);
  bench("daemon: 120 malloc/free + malloc_trim(0)", trim, 2000);
  bench("  same without malloc_trim", notrim, 2000);
  bench("readiness: one 5-byte pipe message written and read", msg_write, 20000);
  return 0;
}
